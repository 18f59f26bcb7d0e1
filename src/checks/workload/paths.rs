//! The migration's tables resolved the way the server will: each statement with the
//! `search_path` in effect where it runs (`SET search_path …`, `set_config('search_path', …)`
//! and `RESET search_path` earlier in the migration), each name looked up in that path on the
//! test Neon database branch before the migration runs. Names come from the SQL's tokens only:
//! comments and string literals name nothing ([`super::parse::lex`]).

use tokio_postgres::Client;

/// The top-level statements of `sql`: split at `;` outside comments, quoted strings, quoted
/// identifiers and dollar-quoted bodies.
pub fn statements(sql: &str) -> Vec<&str> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |p| i + p);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
            }
            q @ (b'\'' | b'"') => {
                i = sql[i + 1..]
                    .find(q as char)
                    .map_or(b.len(), |p| i + 1 + p + 1);
            }
            b'$' if !(i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) => {
                let tag_end = sql[i + 1..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .map(|p| i + 1 + p)
                    .filter(|&e| {
                        b[e] == b'$' && !b[i + 1..e].first().is_some_and(u8::is_ascii_digit)
                    });
                match tag_end {
                    Some(e) => {
                        let tag = &sql[i..=e];
                        i = sql[e + 1..]
                            .find(tag)
                            .map_or(b.len(), |p| e + 1 + p + tag.len());
                    }
                    None => i += 1,
                }
            }
            b';' => {
                out.push(&sql[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    out.push(&sql[start.min(b.len())..]);
    out.retain(|s| !s.trim().is_empty());
    out
}

/// A `search_path` as schema names (unquoted, as stored); `None`: the server's default.
pub type Path = Option<Vec<String>>;

/// Each statement of `sql` with the `search_path` in effect when it runs.
pub fn with_paths(sql: &str) -> Vec<(&str, Path)> {
    let mut path: Path = None;
    let mut out = Vec::new();
    for st in statements(sql) {
        if let Some(p) = sets_path(st) {
            path = p;
            continue;
        }
        out.push((st, path.clone()));
    }
    out
}

/// The `search_path` statement `st` sets: `Some(None)` back to the default (`RESET`,
/// `SET … TO DEFAULT`); `None`: it sets none.
fn sets_path(st: &str) -> Option<Path> {
    let text = strip_comments(st);
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    if words.first() == Some(&"reset") && words.get(1) == Some(&"search_path") {
        return Some(None);
    }
    if words.first() == Some(&"set") {
        let mut k = 1;
        if matches!(words.get(k), Some(&"session") | Some(&"local")) {
            k += 1;
        }
        let rest = words.get(k)?;
        let rest = rest.strip_prefix("search_path")?;
        if !(rest.is_empty() || rest.starts_with('=')) {
            return None;
        }
        // The value: after `search_path`, then `TO` or `=`.
        let at = lower.find("search_path")? + "search_path".len();
        let value = text[at..].trim_start();
        let value = if let Some(v) = value.strip_prefix('=') {
            v
        } else if value.len() >= 2 && value[..2].eq_ignore_ascii_case("to") {
            &value[2..]
        } else {
            return None;
        };
        let value = value.trim();
        if value.eq_ignore_ascii_case("default") {
            return Some(None);
        }
        return Some(Some(set_list(value)));
    }
    // `SELECT set_config('search_path', 'app, public', …)`, `PERFORM …`.
    let at = lower.find("set_config")?;
    let args = text[at + "set_config".len()..]
        .trim_start()
        .strip_prefix('(')?;
    let (name, rest) = literal(args.trim_start())?;
    if !name.eq_ignore_ascii_case("search_path") {
        return None;
    }
    let (value, _) = literal(rest.trim_start().strip_prefix(',')?.trim_start())?;
    Some(Some(guc_list(&value)))
}

/// `st` without `--` and `/* */` comments (outside quotes).
fn strip_comments(st: &str) -> String {
    let mut out = String::new();
    let c: Vec<char> = st.chars().collect();
    let mut i = 0;
    while i < c.len() {
        if c[i] == '-' && c.get(i + 1) == Some(&'-') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                i += 1;
            }
            i += 2;
            out.push(' ');
        } else if c[i] == '\'' || c[i] == '"' {
            let q = c[i];
            out.push(q);
            i += 1;
            while i < c.len() {
                out.push(c[i]);
                i += 1;
                if c[i - 1] == q {
                    break;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// A `'…'` literal at the start of `s` (doubled quotes undone), and what follows it.
fn literal(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        if ch == '\'' {
            if chars.peek().map(|(_, c)| *c) == Some('\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return Some((out, &body[i + 1..]));
        }
        out.push(ch);
    }
    None
}

/// The items of `SET search_path = a, "B", 'c'`: unquoted words folded to lower case, quoted
/// identifiers and string literals as written.
fn set_list(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        let (item, after) = if let Some((l, after)) = literal(rest) {
            (l, after)
        } else if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (q[..end].to_owned(), q.get(end + 1..).unwrap_or(""))
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            (rest[..end].trim().to_lowercase(), &rest[end..])
        };
        if !item.is_empty() {
            out.push(item);
        }
        match after.trim_start().strip_prefix(',') {
            Some(r) => rest = r.trim_start(),
            // The end, or not a list (`SET search_path = x y`): stop rather than guess.
            None => break,
        }
    }
    out
}

/// A `search_path` value as a string (`app, "B"`): as the server splits it.
fn guc_list(value: &str) -> Vec<String> {
    set_list(value)
}

/// `name` (as SQL writes it) as the lock sampler names it (`app.accounts`), looked up in
/// `path` (unqualified names; `None`: the session's own), if such a relation exists.
pub async fn resolve(client: &Client, name: &str, path: Option<&[String]>) -> Option<String> {
    const SQL: &str =
        "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
  FROM unnest($1::text[]) WITH ORDINALITY AS x(name, i)
  JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(x.name)
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'm', 'f', 'v')
 ORDER BY x.i LIMIT 1";
    let candidates: Vec<String> = match (path, super::parse::plain_name(name)) {
        // `$user` (a schema named after the role) and `pg_temp` hold no table of the migration's.
        (Some(path), Some((None, table))) => path
            .iter()
            .filter(|s| *s != "$user" && !s.starts_with("pg_temp"))
            .map(|s| {
                format!(
                    "{}.{}",
                    crate::schema::names::quote_ident(s),
                    crate::schema::names::quote_ident(&table)
                )
            })
            .collect(),
        _ => vec![name.to_owned()],
    };
    let row = client.query_opt(SQL, &[&candidates]).await.ok()??;
    Some(row.get(0))
}

/// The tables `sql` names ([`super::parse::touched_tables`]) that exist, each resolved in the
/// `search_path` of its statement, as the lock sampler names them; those that do not exist
/// (yet), as written.
pub async fn touched(client: &Client, sql: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (st, path) in with_paths(sql) {
        for name in super::parse::touched_tables(st) {
            let t = resolve(client, &name, path.as_deref())
                .await
                .unwrap_or(name);
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_outside_quotes_comments_and_bodies() {
        let sql = "SET search_path = app; -- a; comment\nDO $$ BEGIN EXECUTE 'x; y'; END $$; SELECT 'a;b'";
        let st = statements(sql);
        assert_eq!(st.len(), 3, "{st:?}");
        assert!(st[1].contains("END $$"), "{st:?}");
    }

    #[test]
    fn each_statement_gets_the_search_path_set_before_it() {
        let sql = "ALTER TABLE a ADD x int;\n\
                   SET search_path = app, \"Pub\", 'q';\n\
                   ALTER TABLE b ADD x int;\n\
                   SELECT pg_catalog.set_config('search_path', 'other, public', false);\n\
                   ALTER TABLE c ADD x int;\n\
                   RESET search_path;\n\
                   /* SET search_path = decoy; */ ALTER TABLE d ADD x int;\n\
                   SET LOCAL search_path TO Sales;\n\
                   ALTER TABLE e ADD x int;";
        let got: Vec<(String, Path)> = with_paths(sql)
            .into_iter()
            .map(|(s, p)| {
                let t = s.split("TABLE ").nth(1).unwrap_or_default();
                (t.chars().take(1).collect(), p)
            })
            .collect();
        let v = |x: &[&str]| Some(x.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            got,
            vec![
                ("a".to_owned(), None),
                ("b".to_owned(), v(&["app", "Pub", "q"])),
                ("c".to_owned(), v(&["other", "public"])),
                ("d".to_owned(), None),
                ("e".to_owned(), v(&["sales"])),
            ]
        );
    }
}
