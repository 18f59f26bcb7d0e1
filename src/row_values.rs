//! Row values out of PostgreSQL's error texts. A migration that fails on production data
//! fails with the data in the message — `Key (email)=(ann@example.com) is duplicated.`,
//! `Failing row contains (1, ann@example.com, …).`, `invalid input syntax for type integer:
//! "ann"` — and those values may be personal data. Every error we show, and the output of
//! the migration tools, goes through [`mask`]: the columns, constraints and tables stay
//! (they say what to fix), the values become `…`.

/// Where a value was taken out.
pub const HIDDEN: &str = "…";

/// `text` with the row values of PostgreSQL's error texts masked, line by line.
pub fn mask(text: &str) -> String {
    if !text.contains(")=(")
        && !text.contains("Failing row contains (")
        && !text.contains(": \"")
        && !text.contains("value \"")
    {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&mask_line(line));
    }
    out
}

fn mask_line(line: &str) -> String {
    let mut line = mask_keys(line);
    if let Some(at) = line.find("Failing row contains (") {
        let start = at + "Failing row contains (".len();
        // The row runs to the line's last `)`: values may hold parentheses themselves.
        let end = line
            .rfind(')')
            .filter(|e| *e >= start)
            .unwrap_or(line.len());
        line.replace_range(start..end, HIDDEN);
    }
    mask_quoted_input(&line)
}

/// `Key (a, b)=(1, x) is duplicated.` → `Key (a, b)=(…) is duplicated.`; also the second key
/// of an exclusion conflict (`… conflicts with existing key (a)=(2).`).
fn mask_keys(line: &str) -> String {
    const CONFLICT: &str = ") conflicts with existing key (";
    if let Some(at) = line.find(CONFLICT) {
        let (first, second) = line.split_at(at + 1);
        return format!("{}{}", mask_keys(first), mask_keys(second));
    }
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(")=(") {
        let start = at + 3;
        out.push_str(&rest[..start]);
        out.push_str(HIDDEN);
        let tail = &rest[start..];
        // The values end before the text PostgreSQL puts after them, its last: values may
        // hold `)` and those words themselves.
        let end = [") is ", ") already exists", ") violates", ")."]
            .iter()
            .filter_map(|m| tail.rfind(m))
            .max()
            .or_else(|| tail.rfind(')'))
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The quoted input of a data exception: `invalid input syntax for type integer: "ann"`,
/// `invalid input value for enum mood: "happy"`, `value too long …: "…"`.
fn mask_quoted_input(line: &str) -> String {
    const LEADS: [&str; 5] = [
        "invalid input syntax for",
        "invalid input value for",
        "out of range",
        "invalid value",
        "date/time field value",
    ];
    if !LEADS.iter().any(|l| line.contains(l)) {
        return line.to_owned();
    }
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(": \"") {
        let start = at + 3;
        out.push_str(&rest[..start]);
        out.push_str(HIDDEN);
        let tail = &rest[start..];
        // To the line's last quote: the value may hold quotes.
        let end = tail.rfind('"').unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    // `value "5000000000" is out of range for type integer`
    if let Some(v) = out.find("value \"") {
        if let Some(len) = out[v + 7..].find("\" is out of range") {
            out.replace_range(v + 7..v + 7 + len, HIDDEN);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_masked_and_what_to_fix_stays() {
        let cases = [
            (
                "could not create unique index \"users_email_key\" (SQLSTATE 23505); detail: Key (email)=(ann@example.com) is duplicated.",
                "could not create unique index \"users_email_key\" (SQLSTATE 23505); detail: Key (email)=(…) is duplicated.",
            ),
            (
                "DETAIL:  Key (a, b)=(1, x) is (odd)) already exists.",
                "DETAIL:  Key (a, b)=(…) already exists.",
            ),
            (
                "detail: Key (s)=(SECRET) is not present in table \"t\".",
                "detail: Key (s)=(…) is not present in table \"t\".",
            ),
            (
                "detail: Failing row contains (1, SECRETMAIL@x, 5000000000, (a)).",
                "detail: Failing row contains (…).",
            ),
            (
                "invalid input syntax for type integer: \"SECRET\" (SQLSTATE 22P02)",
                "invalid input syntax for type integer: \"…\" (SQLSTATE 22P02)",
            ),
            (
                "invalid input value for enum mood: \"happy\"",
                "invalid input value for enum mood: \"…\"",
            ),
            (
                "value \"5000000000\" is out of range for type integer",
                "value \"…\" is out of range for type integer",
            ),
            (
                "Key (r)=([1,2)) conflicts with existing key (r)=([1,3)).",
                "Key (r)=(…) conflicts with existing key (r)=(…).",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(mask(input), want, "{input}");
        }
    }

    #[test]
    fn other_texts_are_left_alone() {
        for s in [
            "column \"email\" of relation \"users\" contains null values",
            "relation \"t\" does not exist: \"x\"",
            "a=(1) b",
            "",
        ] {
            assert_eq!(mask(s), s);
        }
    }
}
