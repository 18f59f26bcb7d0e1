//! Splits SQL into statements with a real lexer — quotes, dollar quotes, comments — for the
//! one case that needs it: a `no-transaction` migration, where each statement must be its
//! own implicit transaction (`CREATE INDEX CONCURRENTLY` refuses to run inside one). Files
//! that run in a transaction are sent whole and never split.

/// One statement with the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    pub line: usize,
}

/// Splits `sql` at top-level semicolons. Empty statements (only whitespace and comments)
/// are dropped. Linear in the size of `sql`: every byte is looked at a bounded number of
/// times (`benches/split.rs`).
pub fn split(sql: &str) -> Vec<Statement> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    // Lines are counted as the statements go, never again from the top: statements start
    // in increasing order, so `counted` only moves forward.
    let mut counted = 0;
    let mut line = 1;
    let mut push = |from: usize, to: usize| {
        let text = &sql[from..to];
        if has_code(text) {
            let leading = text.len() - text.trim_start().len();
            let at = from + leading;
            line += b[counted..at].iter().filter(|&&c| c == b'\n').count();
            counted = at;
            out.push(Statement {
                sql: text.trim().to_owned(),
                line,
            });
        }
    };
    while i < b.len() {
        match b[i] {
            b'\'' => {
                // E'...' strings allow backslash escapes.
                let escapes =
                    i > 0 && matches!(b[i - 1], b'e' | b'E') && (i < 2 || !is_ident(b[i - 2]));
                i = skip_quoted(b, i, b'\'', escapes);
            }
            b'"' => i = skip_quoted(b, i, b'"', false),
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map(|p| i + p + 1)
                    .unwrap_or(b.len());
            }
            b'/' if b.get(i + 1) == Some(&b'*') => i = skip_block_comment(b, i),
            b'$' if i == 0 || !is_ident(b[i - 1]) => match dollar_tag(b, i) {
                Some(tag) => {
                    let body = i + tag.len();
                    i = find(b, body, tag).map(|p| p + tag.len()).unwrap_or(b.len());
                }
                None => i += 1,
            },
            b';' => {
                push(start, i + 1);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    push(start, b.len());
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn skip_quoted(b: &[u8], open: usize, q: u8, escapes: bool) -> usize {
    let mut i = open + 1;
    while i < b.len() {
        if escapes && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

fn skip_block_comment(b: &[u8], open: usize) -> usize {
    // Postgres block comments nest.
    let mut depth = 0;
    let mut i = open;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// `$tag$` starting at `i`, if any (tag: empty or an identifier not starting with a digit).
fn dollar_tag(b: &[u8], i: usize) -> Option<&[u8]> {
    let mut j = i + 1;
    while j < b.len() && b[j] != b'$' {
        if !is_ident(b[j]) || (j == i + 1 && b[j].is_ascii_digit()) {
            return None;
        }
        j += 1;
    }
    (j < b.len()).then(|| &b[i..=j])
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Whether `text` contains anything besides whitespace, `;` and comments.
fn has_code(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_whitespace() || c == b';' => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map(|p| i + p + 1)
                    .unwrap_or(b.len());
            }
            b'/' if b.get(i + 1) == Some(&b'*') => i = skip_block_comment(b, i),
            _ => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqls(s: &str) -> Vec<String> {
        split(s).into_iter().map(|s| s.sql).collect()
    }

    #[test]
    fn splits_table() {
        assert_eq!(sqls("select 1; select 2;"), ["select 1;", "select 2;"]);
        assert_eq!(sqls("select ';'; select 2"), ["select ';';", "select 2"]);
        assert_eq!(sqls("select 'it''s;'; x"), ["select 'it''s;';", "x"]);
        assert_eq!(sqls("select E'a\\';b'; y"), ["select E'a\\';b';", "y"]);
        assert_eq!(
            sqls("select \"a;b\" from t; z"),
            ["select \"a;b\" from t;", "z"]
        );
        assert_eq!(
            sqls("-- c;\nselect 1; /* a; /* nested; */ b; */ select 2"),
            ["-- c;\nselect 1;", "/* a; /* nested; */ b; */ select 2"]
        );
        assert_eq!(
            sqls("create function f() returns int as $$ select 1; $$ language sql; select 3;"),
            [
                "create function f() returns int as $$ select 1; $$ language sql;",
                "select 3;"
            ]
        );
        assert_eq!(
            sqls("do $body$ begin perform 1; end $body$; x"),
            ["do $body$ begin perform 1; end $body$;", "x"]
        );
        assert_eq!(
            sqls("select $1; select a$b; c"),
            ["select $1;", "select a$b;", "c"]
        );
        assert_eq!(sqls("-- only a comment;\n  ;  "), Vec::<String>::new());
    }

    #[test]
    fn reports_start_lines() {
        let s = split("\n\nselect 1;\n-- x\nselect\n 2;");
        assert_eq!(s.iter().map(|s| s.line).collect::<Vec<_>>(), [3, 4]);
        // Dropped empty statements and multi-line comments in between still count.
        let s = split("a;\n;\n-- c\n;\n\nb;\n/* x\n */ c; $$\n;\n$$;\n\n  d");
        assert_eq!(
            s.iter()
                .map(|s| (s.sql.as_str(), s.line))
                .collect::<Vec<_>>(),
            [
                ("a;", 1),
                ("b;", 6),
                ("/* x\n */ c;", 7),
                ("$$\n;\n$$;", 8),
                ("d", 12)
            ]
        );
    }
}
