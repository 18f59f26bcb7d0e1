//! Time as the product writes it: one format for reports, metadata and the Neon API.

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 UTC with second precision, as Neon's `expires_at`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn seconds_and_a_z() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-06T01:02:03.456+00:00")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(super::rfc3339(t), "2026-12-06T01:02:03Z");
    }
}
