//! Splits SQL into statements the way `psql` does — quotes, dollar quotes, comments,
//! parentheses and `BEGIN ATOMIC … END` bodies — for the one case that needs it: a
//! `no-transaction` migration, where each statement must be its own implicit transaction
//! (`CREATE INDEX CONCURRENTLY` refuses to run inside one). Files that run in a transaction
//! are sent whole and never split.
//!
//! A `;` ends a statement only outside parentheses (a rule's `DO ALSO (…; …)`) and outside
//! the body of a `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC … END` (with `CASE …
//! END` nested in it): psql's own heuristic (`psqlscan.l`), so a file runs here as it does
//! under `psql -f`.

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
    let mut nest = Nesting::default();
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
            b'\'' => i = skip_quoted(b, i, b'\'', false),
            b'"' => i = skip_quoted(b, i, b'"', false),
            b'-' if b.get(i + 1) == Some(&b'-') => i = skip_line_comment(b, i),
            b'/' if b.get(i + 1) == Some(&b'*') => i = skip_block_comment(b, i),
            b'$' => match dollar_tag(b, i) {
                Some(tag) => {
                    let body = i + tag.len();
                    i = find(b, body, tag).map(|p| p + tag.len()).unwrap_or(b.len());
                }
                None => i += 1,
            },
            b'(' => {
                nest.parens += 1;
                i += 1;
            }
            b')' => {
                nest.parens = nest.parens.saturating_sub(1);
                i += 1;
            }
            b';' => {
                i += 1;
                if nest.at_top() {
                    push(start, i);
                    start = i;
                    nest.words = 0;
                }
            }
            c if c.is_ascii_digit() => {
                i += b[i..]
                    .iter()
                    .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
                    .count();
            }
            c if is_ident_start(c) => i = word(b, i, &mut nest),
            _ => i += 1,
        }
    }
    push(start, b.len());
    out
}

/// What keeps a `;` from ending the statement, as psql tracks it.
#[derive(Default)]
struct Nesting {
    parens: usize,
    /// `BEGIN` (and, inside one, `CASE`) not yet closed by `END`.
    begins: usize,
    /// Words seen in this statement, and the first letters of the first four when they are
    /// `CREATE`, `OR`, `REPLACE`, `FUNCTION` or `PROCEDURE` (0 otherwise).
    words: usize,
    head: [u8; 4],
}

impl Nesting {
    fn at_top(&self) -> bool {
        self.parens == 0 && self.begins == 0
    }

    /// One identifier or keyword (psql's `{identifier}` rule).
    fn word(&mut self, w: &[u8]) {
        if self.words == 0 {
            self.head = [0; 4];
        }
        let is = |k: &str| w.eq_ignore_ascii_case(k.as_bytes());
        if self.words < self.head.len()
            && ["create", "function", "procedure", "or", "replace"]
                .iter()
                .any(|k| is(k))
        {
            self.head[self.words] = w[0].to_ascii_lowercase();
        }
        self.words += 1;
        let h = self.head;
        let routine = h[0] == b'c'
            && (h[1] == b'f'
                || h[1] == b'p'
                || (h[1] == b'o' && h[2] == b'r' && (h[3] == b'f' || h[3] == b'p')));
        if !routine || self.parens > 0 {
            return;
        }
        if is("begin") {
            self.begins += 1;
        } else if is("case") {
            // CASE also ends with END; it only matters inside a BEGIN.
            if self.begins >= 1 {
                self.begins += 1;
            }
        } else if is("end") {
            self.begins = self.begins.saturating_sub(1);
        }
    }
}

/// Lexes the word starting at `i` (or the string literal it prefixes: `E'…'`, `B'…'`,
/// `X'…'`, `N'…'`, `U&'…'`, `U&"…"`) and returns where it ends.
fn word(b: &[u8], i: usize, nest: &mut Nesting) -> usize {
    let next = b.get(i + 1).copied();
    if next == Some(b'\'') && matches!(b[i], b'e' | b'E' | b'b' | b'B' | b'x' | b'X' | b'n' | b'N')
    {
        return skip_quoted(b, i + 1, b'\'', matches!(b[i], b'e' | b'E'));
    }
    if matches!(b[i], b'u' | b'U') && next == Some(b'&') {
        if let Some(&q @ (b'\'' | b'"')) = b.get(i + 2) {
            return skip_quoted(b, i + 2, q, false);
        }
    }
    let len = b[i..]
        .iter()
        .take_while(|&&c| is_ident_start(c) || c.is_ascii_digit() || c == b'$')
        .count();
    nest.word(&b[i..i + len]);
    i + len
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
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

fn skip_line_comment(b: &[u8], open: usize) -> usize {
    b[open..]
        .iter()
        .position(|&c| c == b'\n')
        .map(|p| open + p + 1)
        .unwrap_or(b.len())
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
/// The first `n` words of `sql` (letters, digits, `_`), upper-cased, after whitespace and
/// comments: what a statement is (`BEGIN`, `SET LOCAL`, …).
pub fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut words = Vec::new();
    while i < b.len() && words.len() < n {
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => i = skip_line_comment(b, i),
            b'/' if b.get(i + 1) == Some(&b'*') => i = skip_block_comment(b, i),
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                words.push(sql[start..i].to_ascii_uppercase());
            }
            _ => break,
        }
    }
    words
}

fn has_code(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_whitespace() || c == b';' => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => i = skip_line_comment(b, i),
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

    /// The shapes `generate` writes (and psql runs whole): a SQL-standard body, a rule with
    /// several actions. Each was cut at its first inner `;`.
    #[test]
    fn keeps_begin_atomic_bodies_whole() {
        let f = "CREATE OR REPLACE FUNCTION public.f(a integer) RETURNS integer LANGUAGE sql\n\
                 BEGIN ATOMIC\n SELECT (a + 1);\nEND;";
        let p =
            "create procedure p(a int) language sql\nbegin atomic\n  insert into t values (a);\n  \
                 insert into t values (a + 1);\nend;";
        let c = "CREATE FUNCTION g(a int) RETURNS text LANGUAGE sql BEGIN ATOMIC \
                 SELECT CASE WHEN a > 0 THEN 'p;' ELSE CASE a WHEN 0 THEN 'z' END END; \
                 SELECT 'x'; END;";
        let r = "create or replace procedure q() begin atomic select 1; end;";
        let all = format!("{f}\n{p}\n{c}\n{r}\nselect 2;");
        assert_eq!(sqls(&all), [f, p, c, r, "select 2;"]);
        // `RETURN` bodies and quoted bodies never opened a BEGIN.
        assert_eq!(
            sqls("create function h() returns int language sql return case when true then 1 end; select 3;"),
            [
                "create function h() returns int language sql return case when true then 1 end;",
                "select 3;"
            ]
        );
    }

    #[test]
    fn keeps_parenthesised_rule_actions_whole() {
        let r = "CREATE RULE r AS ON INSERT TO public.o DO ( INSERT INTO a VALUES (new.id);\n \
                 INSERT INTO a VALUES (new.id + 1);\n);";
        assert_eq!(sqls(&format!("{r}\nselect 1;")), [r, "select 1;"]);
        // A stray `)` never goes below zero; `;` in parentheses stays inside.
        assert_eq!(
            sqls("select 1); select (2;3); x"),
            ["select 1);", "select (2;3);", "x"]
        );
    }

    /// Only a statement that starts `CREATE [OR REPLACE] FUNCTION|PROCEDURE` tracks BEGIN,
    /// as in psql: transaction control, a column named `begin`, `CASE … END` elsewhere and
    /// words in quotes, strings and comments never hold a `;` back.
    #[test]
    fn begin_and_end_elsewhere_split_as_before() {
        assert_eq!(
            sqls("begin; select case when true then 1 end; end; commit;"),
            [
                "begin;",
                "select case when true then 1 end;",
                "end;",
                "commit;"
            ]
        );
        assert_eq!(
            sqls("create table t (begin int); create function f(begin int) returns int as $$ begin return 1; end $$ language plpgsql; x;"),
            [
                "create table t (begin int);",
                "create function f(begin int) returns int as $$ begin return 1; end $$ language plpgsql;",
                "x;"
            ]
        );
        assert_eq!(
            sqls("create function \"begin\"() returns text language sql return 'begin' /* begin */ -- begin\n; y"),
            [
                "create function \"begin\"() returns text language sql return 'begin' /* begin */ -- begin\n;",
                "y"
            ]
        );
        assert_eq!(
            sqls("select U&'d\\0061t;a', U&\"a;\", X'1f', B'01', N'n;'; create function e$begin() returns int language sql return 1; z"),
            [
                "select U&'d\\0061t;a', U&\"a;\", X'1f', B'01', N'n;';",
                "create function e$begin() returns int language sql return 1;",
                "z"
            ]
        );
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
