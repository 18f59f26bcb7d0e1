//! Neon database branch names derived from git branch names.
//!
//! One pure function, so the rules live in one table of cases. Neon accepts long names with
//! `/`, but a name must be stable (a rerun finds its own Neon database branch) and readable
//! (it shows up in the Neon console next to the git branch it came from).

use sha2::{Digest, Sha256};

/// Longest Neon database branch name we produce.
pub const MAX_LEN: usize = 256;

/// Lowercases, keeps `/`, replaces anything outside `[a-z0-9._/-]` with `-` (runs collapsed),
/// drops empty, `.` and `..` segments and trims `-` at segment edges; a name longer than
/// `max_len` is cut and given a stable 8-hex-digit hash of the full name.
pub fn sanitize(raw: &str, max_len: usize) -> String {
    let lowered = raw.to_lowercase();
    let mut segments: Vec<String> = Vec::new();
    for segment in lowered.split('/') {
        let mut clean = String::with_capacity(segment.len());
        for c in segment.chars() {
            let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            {
                c
            } else {
                '-'
            };
            if c == '-' && clean.ends_with('-') {
                continue;
            }
            clean.push(c);
        }
        let clean = clean.trim_matches('-');
        if clean.is_empty() || clean == "." || clean == ".." {
            continue;
        }
        segments.push(clean.to_owned());
    }
    let name = if segments.is_empty() {
        "unnamed".to_owned()
    } else {
        segments.join("/")
    };
    if name.len() <= max_len {
        return name;
    }
    let hash = short_hash(raw);
    // `name` is ASCII by construction, so byte slicing is safe.
    let keep = max_len.saturating_sub(hash.len() + 1);
    let head = name[..keep].trim_end_matches(['-', '/', '.']);
    format!("{head}-{hash}")
}

/// The test Neon database branch name for a rendered name template: [`sanitize`], and when
/// that changed anything (a character replaced, upper case folded, a segment dropped) or cut
/// the name, a stable 8-hex-digit hash of the unsanitized name is appended. So git branches
/// that sanitize alike (`feat/Dedupe` and `feat/dedupe`, `feat/a+b` and `feat/a@b`) never
/// share a test Neon database branch, while a name that needs no change stays as it is.
pub fn db_branch_name(raw: &str, max_len: usize) -> String {
    let name = sanitize(raw, usize::MAX);
    // A name that already ends like a hashed one (`…-1a2b3c4d`) could be another git branch's
    // hashed name: it gets a hash of its own too.
    if name == raw && name.len() <= max_len && !looks_hashed(&name) {
        return name;
    }
    let hash = short_hash(raw);
    // `name` is ASCII by construction, so byte slicing is safe.
    let keep = name.len().min(max_len.saturating_sub(hash.len() + 1));
    let head = name[..keep].trim_end_matches(['-', '/', '.']);
    format!("{head}-{hash}")
}

/// Whether `name` ends with `-` and 8 lower-case hex digits, as [`db_branch_name`] writes.
fn looks_hashed(name: &str) -> bool {
    let Some((_, tail)) = name.rsplit_once('-') else {
        return false;
    };
    tail.len() == 8
        && tail
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// First 8 hex digits of the SHA-256 of `s`.
pub fn short_hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_shaped_like_a_hashed_one_is_hashed_too() {
        let hashed = db_branch_name("migrate/Feat/X", MAX_LEN);
        assert!(looks_hashed(&hashed), "{hashed}");
        let lookalike = db_branch_name(&hashed, MAX_LEN);
        assert_ne!(lookalike, hashed);
        assert_eq!(db_branch_name("migrate/feat/x", MAX_LEN), "migrate/feat/x");
        assert_eq!(db_branch_name("migrate/fix-12", MAX_LEN), "migrate/fix-12");
    }

    #[test]
    fn sanitizer_table() {
        let cases: &[(&str, &str)] = &[
            ("migrate/main", "migrate/main"),
            ("migrate/feature/add-orders", "migrate/feature/add-orders"),
            ("migrate/Feature/Add_Orders", "migrate/feature/add_orders"),
            ("migrate/fix: bug #12", "migrate/fix-bug-12"),
            ("migrate//double//slash/", "migrate/double/slash"),
            ("migrate/./x/../y", "migrate/x/y"),
            ("migrate/ünïcödé", "migrate/n-c-d"),
            ("migrate/--weird--", "migrate/weird"),
            ("migrate/a  b\tc", "migrate/a-b-c"),
            ("/", "unnamed"),
            ("", "unnamed"),
            ("migrate/release-1.2.3", "migrate/release-1.2.3"),
            ("MIGRATE/JIRA-123_Thing", "migrate/jira-123_thing"),
        ];
        for (raw, want) in cases {
            assert_eq!(sanitize(raw, MAX_LEN), *want, "sanitize({raw:?})");
        }
    }

    #[test]
    fn long_names_are_cut_with_a_stable_hash() {
        let raw = format!("migrate/{}", "x".repeat(400));
        let a = sanitize(&raw, MAX_LEN);
        assert_eq!(a.len(), MAX_LEN);
        assert_eq!(a, sanitize(&raw, MAX_LEN), "stable");
        let other = sanitize(&format!("migrate/{}y", "x".repeat(400)), MAX_LEN);
        assert_ne!(a, other, "different long names stay distinct");
        assert!(a.ends_with(&short_hash(&raw)));
    }

    #[test]
    fn lossy_names_get_a_hash_of_the_unsanitized_name() {
        let h = |raw: &str| format!("-{}", short_hash(raw));
        let cases: &[(&str, String)] = &[
            ("migrate/main", "migrate/main".into()),
            (
                "migrate/feature/add-orders",
                "migrate/feature/add-orders".into(),
            ),
            ("migrate/release-1.2.3", "migrate/release-1.2.3".into()),
            (
                "migrate/feat/Dedupe",
                format!("migrate/feat/dedupe{}", h("migrate/feat/Dedupe")),
            ),
            (
                "migrate/feat/a+b",
                format!("migrate/feat/a-b{}", h("migrate/feat/a+b")),
            ),
            ("migrate/ñ-ç", format!("migrate{}", h("migrate/ñ-ç"))),
            ("", format!("unnamed{}", h(""))),
        ];
        for (raw, want) in cases {
            assert_eq!(db_branch_name(raw, MAX_LEN), *want, "{raw:?}");
        }
        // Git branches that sanitize alike stay distinct.
        for group in [
            &[
                "migrate/feat/Dedupe",
                "migrate/feat/dedupe",
                "migrate/FEAT/dedupe",
            ][..],
            &["migrate/feat/FOO.BAR", "migrate/feat/foo.bar"],
            &["migrate/feat/a+b", "migrate/feat/a@b", "migrate/feat/a-b"],
            &["migrate/feat/ñ-ç", "migrate/feat", "migrate/feat/é"],
        ] {
            let names: std::collections::BTreeSet<String> =
                group.iter().map(|r| db_branch_name(r, MAX_LEN)).collect();
            assert_eq!(names.len(), group.len(), "{group:?} -> {names:?}");
        }
        // Long names: cut with the same hash, as `sanitize` does.
        let raw = format!("migrate/{}", "x".repeat(400));
        assert_eq!(db_branch_name(&raw, MAX_LEN), sanitize(&raw, MAX_LEN));
        let upper = format!("migrate/{}", "X".repeat(400));
        let cut = db_branch_name(&upper, MAX_LEN);
        assert_eq!(cut.len(), MAX_LEN);
        assert!(cut.ends_with(&short_hash(&upper)), "{cut}");
    }

    #[test]
    fn output_is_always_in_the_alphabet() {
        for raw in [
            "A/B/C",
            "ä/ö/ü",
            "!!!",
            "a/b/",
            "release/2024.01",
            "x".repeat(300).as_str(),
        ] {
            let s = sanitize(raw, 63);
            assert!(s.len() <= 63, "{s}");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._/-".contains(c)),
                "{s}"
            );
            assert!(!s.split('/').any(str::is_empty), "{s}");
        }
    }
}
