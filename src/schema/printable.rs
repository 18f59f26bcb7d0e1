//! A plan's SQL written with no raw line break or invisible character inside a name or a
//! string: an object named `"a\n::error::x"` put `::error::x"` at the start of a line of
//! `diff`'s output — a GitHub Actions workflow command in a CI log — and a name holding
//! `"\n-- …"` printed a line that reads as a comment of the plan.
//!
//! Such a quoted identifier or string constant is written in Postgres' Unicode-escape form
//! instead (`U&"a\000A::error::x"`, `U&'…'`), which the server reads as the very same name or
//! value (the plan sets `standard_conforming_strings`, which that form needs). A dollar-quoted
//! body is rewritten so only when a line of it starts with `::` or it holds such a character
//! besides line breaks and tabs; an `E'…'` string gets `\uXXXX` escapes. Everything else is
//! copied as it is.

use std::borrow::Cow;

use super::unprintable;

/// `sql` with every quoted identifier and string constant holding an unprintable character
/// (see [`unprintable`]) written with escapes; `sql` itself when there is none.
pub fn printable_sql(sql: &str) -> Cow<'_, str> {
    if !sql.chars().any(unprintable) {
        return Cow::Borrowed(sql);
    }
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = |back: usize| i.checked_sub(back).map(|j| chars[j]);
        let word_before = prev(1).is_some_and(ident_char);
        match c {
            '-' if chars.get(i + 1) == Some(&'-') => {
                let end = find(&chars, i, |ch| ch == '\n').unwrap_or(chars.len());
                out.extend(&chars[i..end]);
                i = end;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let end = block_comment_end(&chars, i);
                out.extend(&chars[i..end]);
                i = end;
            }
            '"' => {
                let end = quoted_end(&chars, i, '"', false);
                let body = &chars[i + 1..end.saturating_sub(1)];
                let unicode = prev(1) == Some('&') && matches!(prev(2), Some('u' | 'U'));
                // No name holds a line break or an invisible character legitimately.
                let rewrite = !unicode && body.iter().any(|&ch| unprintable(ch));
                push_quoted(&mut out, body, '"', rewrite);
                i = end;
            }
            '\'' => {
                let escape = matches!(prev(1), Some('e' | 'E')) && !prev(2).is_some_and(ident_char);
                let end = quoted_end(&chars, i, '\'', escape);
                let body = &chars[i + 1..end.saturating_sub(1)];
                let unicode = prev(1) == Some('&') && matches!(prev(2), Some('u' | 'U'));
                if escape {
                    out.push('\'');
                    for &ch in body {
                        if unprintable(ch) {
                            out.push_str(&format!("\\u{:04X}", ch as u32));
                        } else {
                            out.push(ch);
                        }
                    }
                    out.push('\'');
                } else {
                    // A `B'…'`, `X'…'` or `N'…'` constant has no character to escape here;
                    // a value's line breaks stay unless a line would read as a comment or a
                    // workflow command.
                    let text: String = body.iter().collect();
                    let rewrite = !unicode && !word_before && risky(&text, true);
                    push_quoted(&mut out, body, '\'', rewrite);
                }
                i = end;
            }
            '$' if !word_before => match dollar_tag(&chars, i) {
                Some(tag) => {
                    let open = i + tag.len();
                    let close = find_seq(&chars, open, &tag).unwrap_or(chars.len());
                    let body: String = chars[open..close].iter().collect();
                    // A body's `--` lines are its own comments: they stay.
                    if risky(&body, false) {
                        out.push_str("U&'");
                        for ch in body.chars() {
                            push_escaped(&mut out, ch, '\'');
                        }
                        out.push('\'');
                    } else {
                        out.extend(tag.iter());
                        out.push_str(&body);
                        out.extend(tag.iter());
                    }
                    i = (close + tag.len()).min(chars.len());
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if out == sql {
        Cow::Borrowed(sql)
    } else {
        Cow::Owned(out)
    }
}

/// Whether a string's `text` must be written with escapes: it holds an unprintable character
/// besides line breaks and tabs, or a line of it (after the first) starts with `::` (or with
/// `--`, when `comments`).
fn risky(text: &str, comments: bool) -> bool {
    text.chars()
        .any(|ch| unprintable(ch) && ch != '\n' && ch != '\t')
        || text.lines().skip(1).any(|l| {
            let l = l.trim_start();
            l.starts_with("::") || (comments && l.starts_with("--"))
        })
}

/// A character of an unquoted name (letters, digits, `_`, `$`, and any non-ASCII one).
fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Writes a quoted name or string of `body` (its quotes still doubled): as `U&` with escapes
/// when `rewrite`, else as it is.
fn push_quoted(out: &mut String, body: &[char], quote: char, rewrite: bool) {
    if !rewrite {
        out.push(quote);
        out.extend(body);
        out.push(quote);
        return;
    }
    out.push_str("U&");
    out.push(quote);
    for &ch in body {
        // A doubled quote stays doubled: each of its halves is written as it is.
        push_escaped(out, ch, '\0');
    }
    out.push(quote);
}

/// One character inside `U&'…'` / `U&"…"`: `\` doubled, `quote` doubled (for a body that
/// was not quoted before), an unprintable one as `\XXXX` or `\+XXXXXX`.
fn push_escaped(out: &mut String, ch: char, quote: char) {
    if ch == '\\' {
        out.push_str("\\\\");
    } else if ch == quote {
        out.push(ch);
        out.push(ch);
    } else if unprintable(ch) {
        let cp = ch as u32;
        if cp <= 0xFFFF {
            out.push_str(&format!("\\{cp:04X}"));
        } else {
            out.push_str(&format!("\\+{cp:06X}"));
        }
    } else {
        out.push(ch);
    }
}

/// The index after the quote closing the one at `start` (doubled quotes inside; backslash
/// escapes too when `backslashes`), or the end.
fn quoted_end(chars: &[char], start: usize, quote: char, backslashes: bool) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        if backslashes && chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    chars.len()
}

/// The end of a `/* … */` comment starting at `start` (they nest).
fn block_comment_end(chars: &[char], start: usize) -> usize {
    let (mut depth, mut i) = (0usize, start);
    while i + 1 < chars.len() {
        match (chars[i], chars[i + 1]) {
            ('/', '*') => {
                depth += 1;
                i += 2;
            }
            ('*', '/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    chars.len()
}

/// The `$tag$` opening a dollar quote at `start`, if one does.
fn dollar_tag(chars: &[char], start: usize) -> Option<Vec<char>> {
    let mut i = start + 1;
    while i < chars.len() && chars[i] != '$' {
        let ok = if i == start + 1 {
            chars[i].is_alphabetic() || chars[i] == '_'
        } else {
            chars[i].is_alphanumeric() || chars[i] == '_'
        };
        if !ok {
            return None;
        }
        i += 1;
    }
    (i < chars.len()).then(|| chars[start..=i].to_vec())
}

fn find(chars: &[char], from: usize, f: impl Fn(char) -> bool) -> Option<usize> {
    (from..chars.len()).find(|&i| f(chars[i]))
}

fn find_seq(chars: &[char], from: usize, seq: &[char]) -> Option<usize> {
    (from..chars.len()).find(|&i| chars[i..].starts_with(seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_strings_with_line_breaks_are_written_with_escapes() {
        let sql =
            "CREATE TABLE public.\"a\n::error::x\" (\"b\"\"\n-- c\" integer DEFAULT 'v\n::w''s');";
        let out = printable_sql(sql);
        assert_eq!(
            out,
            "CREATE TABLE public.U&\"a\\000A::error::x\" (U&\"b\"\"\\000A-- c\" integer DEFAULT U&'v\\000A::w''s');"
        );
        assert!(!out.contains('\n'));
        // Nothing to change: the same text, not a copy.
        let plain = "ALTER TABLE public.t\n  ADD COLUMN \"x y\" text DEFAULT 'a\\b'";
        assert!(matches!(printable_sql(plain), Cow::Borrowed(_)));
    }

    #[test]
    fn bodies_are_rewritten_only_when_a_line_would_start_with_two_colons() {
        let body =
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $b$select 1\n::int -- a\\b 'q'$b$;";
        assert_eq!(
            printable_sql(body),
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS U&'select 1\\000A::int -- a\\\\b ''q''';"
        );
        let fine = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$select 1\n  -- one\n  + 1$$; -- x\nCOMMENT ON TABLE t IS 'two\nlines';\n";
        assert_eq!(
            printable_sql(&format!("{fine}\"\u{1b}\"")),
            format!("{fine}U&\"\\001B\"")
        );
        assert_eq!(
            printable_sql("SELECT E'a\nb', $1, a$b"),
            "SELECT E'a\\u000Ab', $1, a$b"
        );
    }
}
