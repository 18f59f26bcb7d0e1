//! Human durations in config: `"4h"`, `"90s"`, `"1h30m"`, `"500ms"`, `"7d"`, `"1.5s"`.
//!
//! Every duration of the config and of the command line (`emulator --operation-delay`) goes
//! through [`parse`], so they all accept the same forms. A decimal (`1.5s`, `0.25h`) is accepted when it is a whole
//! number of milliseconds, the resolution of every duration here; `1.0005s` is refused, never
//! rounded.
//!
//! A bare number is rejected on purpose: `ttl = 4` could mean hours or seconds, and a TTL that
//! is 3,600 times too short deletes a test Neon database branch mid-run.

use std::time::Duration;

/// Why a text is not a duration; the message says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration")]
    Empty,
    /// A unit (or other text) where a number belongs; holds the rest of the text.
    #[error("expected a number at `{0}`")]
    ExpectedNumber(String),
    /// A number with more digits than any duration has; holds the whole text.
    #[error("number too large in `{0}`")]
    NumberTooLarge(String),
    /// A number without a unit; holds the whole text.
    #[error("`{0}` has a number without a unit")]
    MissingUnit(String),
    #[error("unknown unit `{unit}` in `{text}`")]
    UnknownUnit { unit: String, text: String },
    #[error("duration too large")]
    TooLarge,
    /// A decimal that is not a whole number of milliseconds; holds the number with its unit.
    #[error("`{0}` is finer than a millisecond, the resolution of durations")]
    SubMillisecond(String),
}

/// Parses a duration; the error says what is wrong (with [`HELP`], the valid forms).
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let number = number_len(rest);
        if number == 0 {
            return Err(DurationError::ExpectedNumber(rest.to_owned()));
        }
        let (whole, fraction) = match rest[..number].split_once('.') {
            Some((w, f)) => (w, f.trim_end_matches('0')),
            None => (&rest[..number], ""),
        };
        let value: u128 = whole
            .parse()
            .map_err(|_| DurationError::NumberTooLarge(s.to_owned()))?;
        let after = &rest[number..];
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let unit = after[..unit_len].trim();
        let millis: u128 = match unit {
            "ms" => 1,
            "s" | "sec" | "secs" => 1_000,
            "m" | "min" | "mins" => 60_000,
            "h" | "hr" | "hrs" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "" => return Err(DurationError::MissingUnit(s.to_owned())),
            other => {
                return Err(DurationError::UnknownUnit {
                    unit: other.to_owned(),
                    text: s.to_owned(),
                })
            }
        };
        let part = value
            .checked_mul(millis)
            .ok_or(DurationError::TooLarge)?
            .checked_add(fraction_millis(fraction, millis).ok_or_else(|| {
                DurationError::SubMillisecond(format!("{}{unit}", &rest[..number]))
            })?)
            .ok_or(DurationError::TooLarge)?;
        total = total.checked_add(part).ok_or(DurationError::TooLarge)?;
        rest = &after[unit_len..];
    }
    let millis = u64::try_from(total).map_err(|_| DurationError::TooLarge)?;
    Ok(Duration::from_millis(millis))
}

/// Length of the number at the start of `text`: digits, optionally a `.` and more digits
/// (`1.5`; not `.5` nor `1.`, whose `.` is then read as a unit and refused).
fn number_len(text: &str) -> usize {
    let digits = |t: &str| t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let whole = digits(text);
    if whole == 0 || !text[whole..].starts_with('.') {
        return whole;
    }
    match digits(&text[whole + 1..]) {
        0 => whole,
        fraction => whole + 1 + fraction,
    }
}

/// The milliseconds of `0.<fraction>` units of `millis` ms each, when a whole number (digits
/// past the 18th, trailing zeros trimmed, never are: a unit is at most 2^10 · 5^5 ms).
fn fraction_millis(fraction: &str, millis: u128) -> Option<u128> {
    if fraction.is_empty() {
        return Some(0);
    }
    if fraction.len() > 18 {
        return None;
    }
    let f: u128 = fraction.parse().ok()?;
    let scale = 10u128.pow(fraction.len() as u32);
    let ms = f * millis;
    ms.is_multiple_of(scale).then_some(ms / scale)
}

/// The help line shown with every duration error.
pub const HELP: &str =
    "write a number with a unit: `500ms`, `90s`, `1.5s`, `30m`, `4h`, `7d`, or combined like `1h30m` (a decimal must come to whole milliseconds)";

/// Formats a duration the way config writes it (`4h`, `1h30m`, `250ms`).
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let mut secs = ms / 1000;
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= len {
            out.push_str(&format!("{}{unit}", secs / len));
            secs %= len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_table() {
        let ok = [
            ("4h", 4 * 3600 * 1000),
            ("90s", 90_000),
            ("1h30m", 5_400_000),
            ("500ms", 500),
            ("7d", 7 * 86_400_000),
            (" 2m ", 120_000),
            ("1h 15m", 4_500_000),
            ("1.5s", 1_500),
            ("1.5h", 5_400_000),
            ("0.25s", 250),
            ("2.50m", 150_000),
            ("1.0ms", 1),
            ("1h0.5m", 3_630_000),
            ("0.001s", 1),
            ("1.00000000000000000000000000s", 1_000),
        ];
        for (text, ms) in ok {
            assert_eq!(parse(text), Ok(Duration::from_millis(ms)), "{text}");
        }
        for bad in [
            "", "4", "h", "4 hours", "4x", "-1h", ".5s", "1.s", "1.5", "1..5s", "1.2.3s", "0.5ms",
            "1.0005s",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    /// The messages config diagnostics and `--ttl` show.
    #[test]
    fn errors_say_what_is_wrong() {
        let cases = [
            ("", "empty duration"),
            ("h", "expected a number at `h`"),
            ("4", "`4` has a number without a unit"),
            ("4 hours", "unknown unit `hours` in `4 hours`"),
            (
                "99999999999999999999999999999999999999999h",
                "number too large in `99999999999999999999999999999999999999999h`",
            ),
            ("999999999999999d", "duration too large"),
            (
                "1.0005s",
                "`1.0005s` is finer than a millisecond, the resolution of durations",
            ),
            (
                "0.5ms",
                "`0.5ms` is finer than a millisecond, the resolution of durations",
            ),
            (".5s", "expected a number at `.5s`"),
            ("1.s", "unknown unit `.s` in `1.s`"),
        ];
        for (text, message) in cases {
            assert_eq!(parse(text).unwrap_err().to_string(), message, "{text}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["4h", "1h30m", "250ms", "7d", "45s", "1500ms"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
    }
}
