//! A small SQL lexer: enough to find the tables a migration names, the tables a statement
//! reads, and the predicates its parameters appear in (`col = $n`, `col IN ($n, …)`,
//! `LIMIT $n`, `OFFSET $n`). Quotes, comments and dollar-quoted bodies are skipped.

use crate::pg;

/// The largest `$n` in a statement (outside quotes and comments).
pub fn max_param(sql: &str) -> usize {
    lex(sql)
        .iter()
        .filter_map(|t| match t {
            Tok::Param(n) => Some(*n),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// Whether a statement writes (replayed in a rolled-back transaction): anything but a plain
/// `SELECT`/`VALUES`/`TABLE`, or a `WITH` holding a data-modifying statement, or a
/// locking read (`FOR UPDATE`, `FOR NO KEY UPDATE`, `FOR SHARE`, `FOR KEY SHARE`: it locks
/// rows, which a read-only transaction refuses, and waits for rows as writes do).
pub fn is_write(sql: &str) -> bool {
    let toks = lex(sql);
    let words: Vec<String> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Word(w) => Some(w.to_ascii_uppercase()),
            _ => None,
        })
        .collect();
    let locking = words
        .windows(2)
        .any(|w| w[0] == "FOR" && matches!(w[1].as_str(), "UPDATE" | "SHARE" | "NO" | "KEY"));
    if locking {
        return true;
    }
    match words.first().map(String::as_str) {
        Some("SELECT") | Some("VALUES") | Some("TABLE") | Some("SHOW") => false,
        Some("WITH") => words
            .iter()
            .any(|w| matches!(w.as_str(), "INSERT" | "UPDATE" | "DELETE" | "MERGE")),
        _ => true,
    }
}

/// Whether a statement locks rows it reads for a write: `FOR UPDATE`, `FOR NO KEY UPDATE` or
/// `FOR SHARE` (not `FOR KEY SHARE`, which blocks only key changes and deletes, as every
/// foreign-key check takes).
pub fn is_locking_read(sql: &str) -> bool {
    let words: Vec<String> = lex(sql)
        .into_iter()
        .filter_map(|t| match t {
            Tok::Word(w) => Some(w.to_ascii_uppercase()),
            _ => None,
        })
        .collect();
    words
        .windows(2)
        .any(|w| w[0] == "FOR" && matches!(w[1].as_str(), "UPDATE" | "SHARE" | "NO"))
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An unquoted word (keyword or identifier).
    Word(String),
    /// A `"quoted"` identifier.
    Quoted(String),
    Param(usize),
    Punct(char),
    /// A literal (string, number): only its position matters.
    Literal,
}

pub(crate) fn lex(sql: &str) -> Vec<Tok> {
    let c: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '-' && c.get(i + 1) == Some(&'-') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if ch == '\'' {
            i += 1;
            while i < c.len() {
                if c[i] == '\'' && c.get(i + 1) == Some(&'\'') {
                    i += 2;
                } else if c[i] == '\'' {
                    break;
                } else {
                    i += 1;
                }
            }
            i += 1;
            out.push(Tok::Literal);
        } else if ch == '"' {
            let mut s = String::new();
            i += 1;
            while i < c.len() {
                if c[i] == '"' && c.get(i + 1) == Some(&'"') {
                    s.push('"');
                    i += 2;
                } else if c[i] == '"' {
                    break;
                } else {
                    s.push(c[i]);
                    i += 1;
                }
            }
            i += 1;
            out.push(Tok::Quoted(s));
        } else if ch == '$' && c.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            let start = i + 1;
            i += 1;
            while i < c.len() && c[i].is_ascii_digit() {
                i += 1;
            }
            let n: String = c[start..i].iter().collect();
            out.push(Tok::Param(n.parse().unwrap_or(0)));
        } else if ch == '$' {
            // A dollar-quoted body: skip to its closing tag.
            let mut j = i + 1;
            while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_') {
                j += 1;
            }
            if c.get(j) == Some(&'$') {
                let tag: String = c[i..=j].iter().collect();
                let rest: String = c[j + 1..].iter().collect();
                let end = rest
                    .find(&tag)
                    .map(|p| rest[..p].chars().count())
                    .unwrap_or(rest.chars().count());
                i = j + 1 + end + tag.chars().count();
                out.push(Tok::Literal);
            } else {
                out.push(Tok::Punct('$'));
                i += 1;
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '.') {
                i += 1;
            }
            out.push(Tok::Literal);
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '$') {
                i += 1;
            }
            out.push(Tok::Word(c[start..i].iter().collect()));
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

pub(crate) fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

/// An identifier as SQL: unquoted words as written, quoted ones quoted again.
fn ident_sql(t: &Tok) -> Option<String> {
    match t {
        Tok::Word(w) => Some(w.clone()),
        Tok::Quoted(q) => Some(pg::ident(q)),
        _ => None,
    }
}

/// A possibly qualified name at `toks[i..]`: (SQL text, tokens used).
pub(crate) fn name_at(toks: &[Tok], i: usize) -> Option<(String, usize)> {
    let mut name = ident_sql(toks.get(i)?)?;
    let mut used = 1;
    while toks.get(i + used) == Some(&Tok::Punct('.')) {
        let part = ident_sql(toks.get(i + used + 1)?)?;
        name = format!("{name}.{part}");
        used += 2;
    }
    Some((name, used))
}

/// Words that end a table reference (so they are no alias).
const NOT_ALIAS: &[&str] = &[
    "WHERE",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "CROSS",
    "NATURAL",
    "ON",
    "USING",
    "SET",
    "ORDER",
    "GROUP",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "FOR",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "RETURNING",
    "VALUES",
    "SELECT",
    "WINDOW",
    "TABLESAMPLE",
    "DEFAULT",
    "ONLY",
    "LATERAL",
];

/// Tables a statement reads or writes, with their aliases.
pub(crate) fn table_refs(toks: &[Tok]) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let starts = ["FROM", "JOIN", "UPDATE", "INTO"]
            .iter()
            .any(|k| is_kw(toks.get(i), k))
            || (toks.get(i) == Some(&Tok::Punct(',')) && !out.is_empty() && in_from(toks, i));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        if is_kw(toks.get(j), "ONLY") {
            j += 1;
        }
        let Some((name, used)) = name_at(toks, j) else {
            i += 1;
            continue;
        };
        j += used;
        if is_kw(toks.get(j), "AS") {
            j += 1;
        }
        let alias = match toks.get(j) {
            Some(Tok::Word(w)) if !NOT_ALIAS.iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                Some(w.to_ascii_lowercase())
            }
            Some(Tok::Quoted(q)) => Some(q.clone()),
            _ => None,
        };
        out.push((name, alias));
        i = j;
    }
    out
}

/// Whether the comma at `i` is in a FROM list (the last keyword before it is FROM).
fn in_from(toks: &[Tok], i: usize) -> bool {
    toks[..i]
        .iter()
        .rev()
        .find_map(|t| match t {
            Tok::Word(w) => {
                let u = w.to_ascii_uppercase();
                match u.as_str() {
                    "FROM" => Some(true),
                    "WHERE" | "SELECT" | "SET" | "ON" | "ORDER" | "GROUP" | "VALUES" => Some(false),
                    _ => None,
                }
            }
            _ => None,
        })
        .unwrap_or(false)
}

/// What a parameter stands for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Role {
    Column {
        qualifier: Option<String>,
        column: String,
    },
    Limit,
    Offset,
}

/// The column (possibly qualified) ending at `toks[end]`.
fn column_before(toks: &[Tok], end: usize) -> Option<(Option<String>, String)> {
    let col_sql = ident_sql(toks.get(end)?)?;
    if end >= 2 && toks[end - 1] == Tok::Punct('.') {
        let q = match &toks[end - 2] {
            Tok::Word(w) => w.to_ascii_lowercase(),
            Tok::Quoted(q) => q.clone(),
            _ => return None,
        };
        return Some((Some(q), col_sql));
    }
    Some((None, col_sql))
}

/// How `$p` is used: compared with a column, or a LIMIT / OFFSET.
pub(crate) fn param_role(toks: &[Tok], p: usize) -> Option<Role> {
    let mut found = None;
    for (i, t) in toks.iter().enumerate() {
        if *t != Tok::Param(p) {
            continue;
        }
        // A cast right after (`$1::int`) does not change what it is compared with.
        let role = if i >= 1 && is_kw(toks.get(i - 1), "LIMIT") {
            Some(Role::Limit)
        } else if i >= 1 && is_kw(toks.get(i - 1), "OFFSET") {
            Some(Role::Offset)
        } else if i >= 2 && toks[i - 1] == Tok::Punct('=') {
            column_before(toks, i - 2).map(|(qualifier, column)| Role::Column { qualifier, column })
        } else if toks.get(i + 1) == Some(&Tok::Punct('=')) {
            match (toks.get(i + 2), toks.get(i + 3)) {
                (Some(_), Some(Tok::Punct('.'))) => column_before(toks, i + 4),
                (Some(_), _) => column_before(toks, i + 2),
                _ => None,
            }
            .map(|(qualifier, column)| Role::Column { qualifier, column })
        } else {
            in_list_column(toks, i).map(|(qualifier, column)| Role::Column { qualifier, column })
        };
        match (role, &found) {
            (None, _) => return None,
            (Some(r), None) => found = Some(r),
            (Some(r), Some(f)) if r == *f => {}
            _ => return None,
        }
    }
    found
}

/// For `$p` at `i` inside `col IN ( …, $p, … )`: the column.
fn in_list_column(toks: &[Tok], i: usize) -> Option<(Option<String>, String)> {
    let mut j = i;
    loop {
        j = j.checked_sub(1)?;
        match &toks[j] {
            Tok::Param(_) | Tok::Punct(',') | Tok::Literal => continue,
            Tok::Punct('(') => break,
            _ => return None,
        }
    }
    if !is_kw(toks.get(j.checked_sub(1)?), "IN") {
        return None;
    }
    column_before(toks, j.checked_sub(2)?)
}

/// Words that are never an unquoted table name where one is looked for (`BEFORE UPDATE ON t`
/// names `t`, not `ON`).
const NOT_A_TABLE: &[&str] = &[
    "ON",
    "OF",
    "OR",
    "TO",
    "SET",
    "WHERE",
    "FROM",
    "AS",
    "AND",
    "IS",
    "NOT",
    "NULL",
    "SELECT",
    "TABLE",
    "ONLY",
    "IF",
    "EXISTS",
    "DO",
    "INSTEAD",
    "FOR",
    "EACH",
    "ROW",
    "STATEMENT",
    "USING",
    "WITH",
    "VALUES",
    "DEFAULT",
    "RETURNING",
    "CONCURRENTLY",
];

/// The tables a migration's SQL names: `ALTER TABLE`, `CREATE INDEX … ON`, `LOCK`,
/// `UPDATE`, `DELETE FROM`, `INSERT INTO`, `TRUNCATE`, `VACUUM FULL`, `CLUSTER`,
/// `REINDEX TABLE`, `REFERENCES`, `DROP TABLE`, `REFRESH MATERIALIZED VIEW`, the table of a
/// `CREATE TRIGGER`, `CREATE RULE` or `CREATE POLICY` — also inside dollar-quoted bodies
/// (`DO $$ … ALTER TABLE t … $$`, which runs there and then).
pub fn touched_tables(sql: &str) -> Vec<String> {
    let mut out: Vec<(String, bool)> = Vec::new();
    named_in(sql, &mut out, 0);
    let mut names: Vec<String> = Vec::new();
    for (name, _) in out {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The tables of [`touched_tables`] that `sql` names only as the target of a data change
/// (`INSERT INTO`, `UPDATE`, `DELETE FROM`): ROW EXCLUSIVE, which blocks no other statement's
/// table lock.
pub fn changed_only(sql: &str) -> Vec<String> {
    let mut out: Vec<(String, bool)> = Vec::new();
    named_in(sql, &mut out, 0);
    let mut names: Vec<String> = Vec::new();
    for (name, _) in &out {
        if !names.contains(name) && out.iter().all(|(n, change)| n != name || *change) {
            names.push(name.clone());
        }
    }
    names
}

/// Each table `sql` names, and whether that statement is a data change.
fn named_in(sql: &str, out: &mut Vec<(String, bool)>, depth: u8) {
    let toks = lex(sql);
    let kw = |i: usize, k: &str| is_kw(toks.get(i), k);
    let skip = |mut i: usize, words: &[&str]| {
        while words.iter().any(|w| kw(i, w)) {
            i += 1;
        }
        i
    };
    // The first `word` after `i` in the same statement.
    let find = |i: usize, word: &str| {
        (i..toks.len())
            .take_while(|&k| toks[k] != Tok::Punct(';'))
            .find(|&k| kw(k, word))
    };
    for i in 0..toks.len() {
        let change = (kw(i, "UPDATE")
            && !kw(i.wrapping_sub(1), "FOR")
            && !kw(i.wrapping_sub(1), "ON")
            && !kw(i.wrapping_sub(1), "DO"))
            || (kw(i, "FROM") && kw(i.wrapping_sub(1), "DELETE"))
            || (kw(i, "INTO") && kw(i.wrapping_sub(1), "INSERT"));
        let at = if kw(i, "ALTER") && kw(i + 1, "TABLE") {
            let mut j = i + 2;
            if kw(j, "IF") && kw(j + 1, "EXISTS") {
                j += 2;
            }
            Some(skip(j, &["ONLY"]))
        } else if kw(i, "DROP") && kw(i + 1, "TABLE") {
            Some(skip(i + 2, &["IF", "EXISTS"]))
        } else if kw(i, "REFRESH") && kw(i + 1, "MATERIALIZED") && kw(i + 2, "VIEW") {
            Some(skip(i + 3, &["CONCURRENTLY"]))
        } else if kw(i, "TRIGGER")
            && (kw(i.wrapping_sub(1), "CREATE")
                || kw(i.wrapping_sub(1), "REPLACE")
                || kw(i.wrapping_sub(1), "CONSTRAINT"))
        {
            find(i + 1, "ON").map(|k| skip(k + 1, &["ONLY"]))
        } else if kw(i, "POLICY")
            && (kw(i.wrapping_sub(1), "CREATE") || kw(i.wrapping_sub(1), "ALTER"))
        {
            find(i + 1, "ON").map(|k| k + 1)
        } else if kw(i, "RULE")
            && (kw(i.wrapping_sub(1), "CREATE") || kw(i.wrapping_sub(1), "REPLACE"))
        {
            find(i + 1, "TO").map(|k| k + 1)
        } else if kw(i, "INDEX")
            && (kw(i.wrapping_sub(1), "CREATE") || kw(i.wrapping_sub(1), "UNIQUE"))
        {
            let mut j = skip(i + 1, &["CONCURRENTLY"]);
            if kw(j, "IF") {
                j += 3;
            }
            // An optional index name, then ON.
            (j..j + 4)
                .find(|&k| kw(k, "ON"))
                .map(|k| skip(k + 1, &["ONLY"]))
        } else if kw(i, "LOCK") || kw(i, "TRUNCATE") {
            Some(skip(i + 1, &["TABLE", "ONLY"]))
        } else if change || kw(i, "REFERENCES") || kw(i, "CLUSTER") {
            Some(skip(i + 1, &["ONLY"]))
        } else if kw(i, "VACUUM") && kw(i + 1, "FULL") {
            Some(i + 2)
        } else if kw(i, "REINDEX") && kw(i + 1, "TABLE") {
            Some(skip(i + 2, &["CONCURRENTLY"]))
        } else {
            None
        };
        let Some(j) = at else { continue };
        if NOT_A_TABLE.iter().any(|w| kw(j, w)) {
            continue;
        }
        if let Some((name, _)) = name_at(&toks, j) {
            out.push((name, change));
        }
    }
    if depth < 4 {
        for body in dollar_bodies(sql) {
            named_in(body, out, depth + 1);
        }
    }
}

/// The bodies of the dollar-quoted strings of `sql` (`$$…$$`, `$tag$…$tag$`), outside
/// comments, quoted strings and quoted identifiers.
fn dollar_bodies(sql: &str) -> Vec<&str> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
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
            b'$' if !b.get(i + 1).is_some_and(u8::is_ascii_digit)
                && !(i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let tag_end = sql[i + 1..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .map(|p| i + 1 + p);
                match tag_end.filter(|&e| b[e] == b'$') {
                    Some(e) => {
                        let tag = &sql[i..=e];
                        let body_start = e + 1;
                        let close = sql[body_start..].find(tag).map(|p| body_start + p);
                        out.push(&sql[body_start..close.unwrap_or(b.len())]);
                        i = close.map_or(b.len(), |c| c + tag.len());
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// A table lock a migration statement is known to take (the `locks` check says when it was not
/// observed: a lock shorter than the sampling interval is not seen, which is not "none").
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedLock {
    /// The table as a (schema, name) pair, unquoted (`None`: not qualified).
    pub schema: Option<String>,
    pub table: String,
    /// `pg_locks` mode (`AccessExclusiveLock`), or `None` when the statement's form takes a
    /// weaker lock that this lexer does not tell apart (`ALTER TABLE … VALIDATE CONSTRAINT`).
    pub mode: Option<&'static str>,
    /// The statement's first words, for the report.
    pub statement: String,
}

/// Words that make an `ALTER TABLE` take less than ACCESS EXCLUSIVE (or only for some of its
/// subcommands): such a statement is said to take "a table lock", never a mode it may not take.
const WEAKER_ALTER: &[&str] = &[
    "VALIDATE",
    "ATTACH",
    "DETACH",
    "STATISTICS",
    "REFERENCES",
    "FOREIGN",
    "TRIGGER",
    "CLUSTER",
];

/// A name at `toks[i..]` as an unquoted (schema, table) pair: unquoted words folded to lower
/// case, as the server does.
fn plain_name_at(toks: &[Tok], i: usize) -> Option<(Option<String>, String)> {
    let part = |t: &Tok| match t {
        Tok::Word(w) => Some(w.to_lowercase()),
        Tok::Quoted(q) => Some(q.clone()),
        _ => None,
    };
    let first = part(toks.get(i)?)?;
    if toks.get(i + 1) == Some(&Tok::Punct('.')) {
        let second = part(toks.get(i + 2)?)?;
        return Some((Some(first), second));
    }
    Some((None, first))
}

/// A possibly qualified name (`public."Orders"`) as an unquoted (schema, table) pair.
pub fn plain_name(text: &str) -> Option<(Option<String>, String)> {
    let toks = lex(text);
    let name = plain_name_at(&toks, 0)?;
    let used = if name.0.is_some() { 3 } else { 1 };
    (toks.len() == used).then_some(name)
}

/// The table locks the statements of `sql` are known to take: `ALTER TABLE` (ACCESS
/// EXCLUSIVE, unless a weaker form), `DROP TABLE` and `TRUNCATE` (ACCESS EXCLUSIVE),
/// `CREATE INDEX` (SHARE; SHARE UPDATE EXCLUSIVE `CONCURRENTLY`).
pub fn expected_locks(sql: &str) -> Vec<ExpectedLock> {
    let toks = lex(sql);
    let mut out = Vec::new();
    for st in toks.split(|t| *t == Tok::Punct(';')) {
        let kw = |i: usize, k: &str| is_kw(st.get(i), k);
        let skip = |mut i: usize, words: &[&str]| {
            while words.iter().any(|w| kw(i, w)) {
                i += 1;
            }
            i
        };
        let words = |n: usize| {
            st.iter()
                .take(n)
                .filter_map(|t| match t {
                    Tok::Word(w) => Some(w.clone()),
                    Tok::Quoted(q) => Some(pg::ident(q)),
                    Tok::Punct('.') => Some(".".into()),
                    Tok::Punct(',') => Some(",".into()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(" ")
                .replace(" . ", ".")
                .replace(" ,", ",")
        };
        let (at, mode, shown) = if kw(0, "ALTER") && kw(1, "TABLE") {
            let weaker = st
                .iter()
                .any(|t| WEAKER_ALTER.iter().any(|w| is_kw(Some(t), w)));
            let mode = (!weaker).then_some("AccessExclusiveLock");
            let at = skip(skip(2, &["IF", "EXISTS"]), &["ONLY"]);
            let used = name_at(st, at).map_or(1, |n| n.1);
            // The name and the action's first two words.
            (vec![at], mode, at + used + 2)
        } else if (kw(0, "DROP") && kw(1, "TABLE")) || kw(0, "TRUNCATE") {
            let first = skip(skip(1, &["TABLE", "IF", "EXISTS"]), &["ONLY"]);
            // Every table of the list.
            let mut at = vec![first];
            let mut j = first;
            while let Some((_, used)) = name_at(st, j) {
                j += used;
                if st.get(j) != Some(&Tok::Punct(',')) {
                    break;
                }
                j = skip(j + 1, &["ONLY"]);
                at.push(j);
            }
            (at, Some("AccessExclusiveLock"), j)
        } else if kw(0, "CREATE") && (kw(1, "INDEX") || (kw(1, "UNIQUE") && kw(2, "INDEX"))) {
            let concurrently = st.iter().any(|t| is_kw(Some(t), "CONCURRENTLY"));
            let Some(on) = (2..st.len().min(12)).find(|&k| kw(k, "ON")) else {
                continue;
            };
            let mode = if concurrently {
                "ShareUpdateExclusiveLock"
            } else {
                "ShareLock"
            };
            let at = skip(on + 1, &["ONLY"]);
            let used = name_at(st, at).map_or(1, |n| n.1);
            (vec![at], Some(mode), at + used)
        } else {
            continue;
        };
        for a in at {
            if let Some((schema, table)) = plain_name_at(st, a) {
                out.push(ExpectedLock {
                    schema,
                    table,
                    mode,
                    statement: format!("{} …", words(shown)),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_name_their_tables() {
        let sql =
            "-- ALTER TABLE nope\nALTER TABLE IF EXISTS ONLY public.accounts ADD COLUMN x int;\n\
                   CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY \"Orders\" (id);\n\
                   CREATE INDEX ON items (a);\n\
                   ALTER TABLE t2 ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES parents (id);\n\
                   UPDATE accounts SET x = 1; INSERT INTO log VALUES ('ALTER TABLE fake x');\n\
                   SELECT 1 FROM z FOR UPDATE;";
        assert_eq!(
            touched_tables(sql),
            [
                "public.accounts",
                "\"Orders\"",
                "items",
                "t2",
                "parents",
                "accounts",
                "log"
            ]
        );
    }

    #[test]
    fn triggers_rules_policies_and_do_blocks_name_their_tables() {
        let sql = "CREATE TRIGGER t1 BEFORE UPDATE ON other FOR EACH ROW EXECUTE FUNCTION f();\n\
                   CREATE OR REPLACE TRIGGER t2 AFTER INSERT OR UPDATE OF a ON s2.\"T\" EXECUTE FUNCTION f();\n\
                   GRANT UPDATE ON granted TO PUBLIC;\n\
                   CREATE RULE r AS ON UPDATE TO ruled DO INSTEAD NOTHING;\n\
                   CREATE POLICY p ON policed USING (true);\n\
                   REFRESH MATERIALIZED VIEW CONCURRENTLY mv;\n\
                   DROP TABLE IF EXISTS gone;\n\
                   DO $$ BEGIN IF true THEN ALTER TABLE inside ADD COLUMN y int; END IF; END $$;\n\
                   CREATE FUNCTION g() RETURNS void AS $body$ UPDATE in_fn SET a = 1 $body$ LANGUAGE sql;\n\
                   SELECT '$$ ALTER TABLE not_a_body x $$';";
        assert_eq!(
            touched_tables(sql),
            ["other", "s2.\"T\"", "ruled", "policed", "mv", "gone", "inside", "in_fn"]
        );
    }

    #[test]
    fn parameters_are_placed() {
        let toks = lex("SELECT * FROM accounts a JOIN orders o ON o.account = a.id WHERE a.id = $1 AND o.state IN ($2, $3) AND $4 = o.kind LIMIT $5 OFFSET $6");
        assert_eq!(
            table_refs(&toks),
            [
                ("accounts".to_owned(), Some("a".to_owned())),
                ("orders".to_owned(), Some("o".to_owned()))
            ]
        );
        assert_eq!(
            param_role(&toks, 1),
            Some(Role::Column {
                qualifier: Some("a".into()),
                column: "id".into()
            })
        );
        assert_eq!(
            param_role(&toks, 3),
            Some(Role::Column {
                qualifier: Some("o".into()),
                column: "state".into()
            })
        );
        assert_eq!(
            param_role(&toks, 4),
            Some(Role::Column {
                qualifier: Some("o".into()),
                column: "kind".into()
            })
        );
        assert_eq!(param_role(&toks, 5), Some(Role::Limit));
        assert_eq!(param_role(&toks, 6), Some(Role::Offset));
        let toks = lex("SELECT * FROM t WHERE created > $1");
        assert_eq!(param_role(&toks, 1), None);
        assert_eq!(max_param("SELECT '$9', $2 -- $7\n"), 2);
    }

    #[test]
    fn statements_say_which_table_locks_they_take() {
        let sql = "-- ALTER TABLE commented\n\
                   ALTER TABLE IF EXISTS ONLY public.\"Accounts\" ADD COLUMN x int;\n\
                   alter table orders validate constraint c;\n\
                   CREATE UNIQUE INDEX CONCURRENTLY i ON items (a);\n\
                   CREATE INDEX ON Items (b);\n\
                   DROP TABLE IF EXISTS a, s.b; TRUNCATE c;\n\
                   UPDATE d SET x = 'ALTER TABLE e ADD x int;';";
        let all = expected_locks(sql);
        let got: Vec<(Option<&str>, &str, Option<&str>)> = all
            .iter()
            .map(|e| (e.schema.as_deref(), e.table.as_str(), e.mode))
            .collect();
        assert_eq!(
            got,
            [
                (Some("public"), "Accounts", Some("AccessExclusiveLock")),
                (None, "orders", None),
                (None, "items", Some("ShareUpdateExclusiveLock")),
                (None, "items", Some("ShareLock")),
                (None, "a", Some("AccessExclusiveLock")),
                (Some("s"), "b", Some("AccessExclusiveLock")),
                (None, "c", Some("AccessExclusiveLock")),
            ]
        );
        assert_eq!(
            all[0].statement,
            "ALTER TABLE IF EXISTS ONLY public.\"Accounts\" ADD COLUMN …"
        );
        assert_eq!(all[4].statement, "DROP TABLE IF EXISTS a, s.b …");
    }

    #[test]
    fn writes_are_told_from_reads() {
        assert!(!is_write("select * from t where id = $1"));
        assert!(is_write("UPDATE t SET a = 1 WHERE id = $1"));
        assert!(is_write("with x as (delete from t returning *) select 1"));
        assert!(!is_write("with x as (select 1) select * from x"));
        assert!(is_write("SELECT id FROM accounts WHERE id = $1 FOR UPDATE"));
        assert!(is_write(
            "select id from t where id = $1 for no key update skip locked"
        ));
        assert!(is_write("select 1 from t for share"));
        assert!(is_locking_read(
            "SELECT count(*) FROM (SELECT id FROM t FOR UPDATE) s"
        ));
        assert!(!is_locking_read("SELECT 1 FROM t FOR KEY SHARE"));
        assert!(!is_locking_read("SELECT 'for update' FROM t"));
        assert!(!is_write("select \"for\" from t where note = 'for update'"));
    }
}
