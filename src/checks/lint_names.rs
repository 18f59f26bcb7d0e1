//! Which relation a linted statement is about, resolved against the catalog rather than by
//! comparing SQL text: lint demotes a finding on a table created in this run, and a name
//! Postgres normalizes (`U&"\0075sers"` is `users`; a name longer than 63 bytes is cut to 63;
//! an unquoted name is folded to lower case, ASCII letters only) must not read as a new table
//! (attack11 A3b). The relations are read from `pg_class` before the migration and after it;
//! "created in this run" is an OID the catalog did not have before.

use std::collections::HashMap;

use squawk_syntax::ast::{self, AstNode};
use squawk_syntax::{Parse, SourceFile, SyntaxKind, SyntaxNode};
use tokio_postgres::Client;

/// Every relation of the database (but TOAST and other sessions' temporary ones), by OID:
/// `(schema, name, relkind)`, as stored (unquoted).
#[derive(Debug, Default, Clone)]
pub struct Relations(HashMap<u32, (String, String, char)>);

const QUERY: &str = "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname <> 'pg_toast' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
   AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'";

/// The relations of the database `client` reads; `None` when the catalog cannot be read (then
/// nothing is demoted).
pub async fn read(client: &Client) -> Option<Relations> {
    let rows = client.query(QUERY, &[]).await.ok()?;
    let mut out = HashMap::new();
    for r in rows {
        let kind: String = r.get(3);
        out.insert(
            r.get::<_, u32>(0),
            (r.get(1), r.get(2), kind.chars().next().unwrap_or('?')),
        );
    }
    Some(Relations(out))
}

impl Relations {
    #[cfg(test)]
    pub fn of(rels: &[(u32, &str, &str, char)]) -> Relations {
        Relations(
            rels.iter()
                .map(|(o, s, n, k)| (*o, (s.to_string(), n.to_string(), *k)))
                .collect(),
        )
    }

    /// The relations `name` may be, with their kinds.
    fn matching<'a>(&'a self, name: &'a Name) -> impl Iterator<Item = (u32, char)> + 'a {
        self.0
            .iter()
            .filter(move |(_, (s, n, _))| name.is(s, n))
            .map(|(o, (_, _, k))| (*o, *k))
    }
}

/// The catalog before and after the migration, as lint reads it.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    pub before: Option<Relations>,
    pub after: Option<Relations>,
}

impl Catalog {
    /// Whether every table named was created in this run: it may be no relation that existed
    /// before the migration (in any schema, for an unqualified name: `search_path` is not
    /// guessed), and it is one whose OID the catalog did not have before. A name that cannot
    /// be resolved, or a table since dropped or renamed, is not "created".
    pub fn all_created(&self, names: &[Name]) -> bool {
        let (Some(before), Some(after)) = (&self.before, &self.after) else {
            return false;
        };
        !names.is_empty()
            && names.iter().all(|n| {
                before.matching(n).next().is_none()
                    && after
                        .matching(n)
                        .any(|(oid, _)| !before.0.contains_key(&oid))
            })
    }

    /// Whether every table a `DROP TABLE` names was created in this run (and so cannot be in
    /// the catalog after it): no relation that existed before has the name, and none that
    /// of the tables that existed before is gone — a name read wrongly that dropped an
    /// existing table would have left its OID missing.
    pub fn all_created_and_dropped(&self, names: &[Name]) -> bool {
        let (Some(before), Some(after)) = (&self.before, &self.after) else {
            return false;
        };
        !names.is_empty()
            && names.iter().all(|n| before.matching(n).next().is_none())
            && before
                .0
                .iter()
                .filter(|(_, (_, _, kind))| matches!(kind, 'r' | 'p'))
                .all(|(oid, _)| after.0.contains_key(oid))
    }

    /// Whether `name` is a partitioned table (and nothing else) before and after the
    /// migration: `CREATE INDEX … ON ONLY` it builds no index.
    pub fn partitioned(&self, name: &Name) -> bool {
        let only_p = |r: &Relations| {
            let kinds: Vec<char> = r.matching(name).map(|(_, k)| k).collect();
            !kinds.is_empty() && kinds.iter().all(|&k| k == 'p')
        };
        match (&self.before, &self.after) {
            (Some(b), Some(a)) => only_p(a) && (b.matching(name).next().is_none() || only_p(b)),
            _ => false,
        }
    }
}

/// A relation's name as a statement spells it, resolved as Postgres reads it: each part is
/// the spellings it may stand for (one, but for an unquoted non-ASCII word: the database's
/// encoding decides whether it is folded to lower case).
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub schema: Option<Vec<String>>,
    pub table: Vec<String>,
}

impl Name {
    pub fn is(&self, schema: &str, table: &str) -> bool {
        self.table.iter().any(|t| t == table)
            && self
                .schema
                .as_ref()
                .is_none_or(|s| s.iter().any(|s| s == schema))
    }

    /// As written in findings: `public.users`.
    pub fn shown(&self) -> String {
        let t = crate::schema::names::quote_ident(&self.table[0]);
        match &self.schema {
            Some(s) => format!("{}.{t}", crate::schema::names::quote_ident(&s[0])),
            None => t,
        }
    }
}

/// The statement that contains byte `offset`, as lint refines its findings.
pub struct Statement {
    /// The tables of an `ALTER TABLE`, `CREATE INDEX … ON` or `DROP TABLE`; `None` for a
    /// name that cannot be resolved.
    pub tables: Vec<Option<Name>>,
    /// `CREATE INDEX … ON ONLY t`.
    pub index_on_only: bool,
    /// `DROP TABLE`.
    pub drop: bool,
}

/// The statement that contains byte `offset`, when it is one lint refines.
pub fn statement(parse: &Parse<SourceFile>, offset: usize) -> Option<Statement> {
    let contains = |n: &SyntaxNode| {
        let range = n.text_range();
        usize::from(range.start()) <= offset && offset <= usize::from(range.end())
    };
    let name = |n: &ast::TableNameRef| resolve(n.syntax());
    parse.tree().stmts().find_map(|stmt| match stmt {
        ast::Stmt::AlterTable(t) if contains(t.syntax()) => Some(Statement {
            tables: vec![name(&t.table_relation_name()?.table_name_ref()?)],
            index_on_only: false,
            drop: false,
        }),
        ast::Stmt::CreateIndex(i) if contains(i.syntax()) => {
            let rel = i.table_relation_name()?;
            Some(Statement {
                tables: vec![name(&rel.table_name_ref()?)],
                index_on_only: rel.only_token().is_some() && i.concurrently_token().is_none(),
                drop: false,
            })
        }
        ast::Stmt::DropTable(d) if contains(d.syntax()) => {
            let tables: Vec<_> = d.table_name_refs().map(|n| name(&n)).collect();
            (!tables.is_empty()).then_some(Statement {
                tables,
                index_on_only: false,
                drop: true,
            })
        }
        _ => None,
    })
}

/// The longest identifier Postgres keeps, in bytes (`NAMEDATALEN - 1`).
const MAX_IDENT: usize = 63;

/// A qualified name's tokens (comments and white space between them skipped) as Postgres
/// resolves them; `None` for anything else (a `UESCAPE` clause, a token it does not expect).
fn resolve(node: &SyntaxNode) -> Option<Name> {
    let mut parts: Vec<Vec<String>> = Vec::new();
    let mut expect_part = true;
    let mut last = None;
    for t in node
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        if matches!(t.kind(), SyntaxKind::WHITESPACE | SyntaxKind::COMMENT) {
            continue;
        }
        let text = t.text();
        if text == "." && !expect_part {
            expect_part = true;
        } else if expect_part {
            parts.push(identifier(text)?);
            expect_part = false;
        } else {
            return None;
        }
        last = Some(t.clone());
    }
    // `U&"…" UESCAPE '!'`: another escape character; not decoded here.
    let mut next = last?.next_token();
    while let Some(t) = next
        .as_ref()
        .filter(|t| matches!(t.kind(), SyntaxKind::WHITESPACE | SyntaxKind::COMMENT))
    {
        next = t.next_token();
    }
    if next.is_some_and(|t| t.text().eq_ignore_ascii_case("uescape")) {
        return None;
    }
    if expect_part {
        return None;
    }
    let table = parts.pop()?;
    let schema = parts.pop();
    // `database.schema.table`: the database is the current one.
    (parts.len() <= 1).then_some(Name { schema, table })
}

/// One identifier token as Postgres reads it: the spellings it may stand for.
fn identifier(text: &str) -> Option<Vec<String>> {
    let decoded = if let Some(q) = text.strip_prefix('"') {
        vec![q.strip_suffix('"')?.replace("\"\"", "\"")]
    } else if let Some(q) = text
        .strip_prefix("U&\"")
        .or_else(|| text.strip_prefix("u&\""))
    {
        vec![unicode_escapes(
            &q.strip_suffix('"')?.replace("\"\"", "\""),
        )?]
    } else {
        let mut chars = text.chars();
        let first = chars.next()?;
        if !(first.is_alphabetic() || first == '_')
            || !text
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            return None;
        }
        // Postgres folds ASCII letters; a single-byte encoding folds its other letters too.
        let ascii = text.to_ascii_lowercase();
        let full = text.to_lowercase();
        if ascii == full {
            vec![ascii]
        } else {
            vec![ascii, full]
        }
    };
    Some(decoded.into_iter().map(|s| truncate(&s)).collect())
}

/// `\XXXX`, `\+XXXXXX` (surrogate pairs joined) and `\\` of a `U&"…"` identifier.
fn unicode_escapes(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    let mut high: Option<u32> = None;
    while let Some(c) = chars.next() {
        if c != '\\' {
            if high.is_some() {
                return None;
            }
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'\\') && high.is_none() {
            chars.next();
            out.push('\\');
            continue;
        }
        let digits = if chars.peek() == Some(&'+') {
            chars.next();
            6
        } else {
            4
        };
        let hex: String = (0..digits).filter_map(|_| chars.next()).collect();
        if hex.len() != digits {
            return None;
        }
        let code = u32::from_str_radix(&hex, 16).ok()?;
        match (high.take(), code) {
            (None, 0xD800..=0xDBFF) => high = Some(code),
            (Some(h), 0xDC00..=0xDFFF) => out.push(char::from_u32(
                0x10000 + ((h - 0xD800) << 10) + (code - 0xDC00),
            )?),
            (Some(_), _) => return None,
            (None, _) => out.push(char::from_u32(code)?),
        }
    }
    high.is_none().then_some(out)
}

/// Cut to [`MAX_IDENT`] bytes at a character boundary, as Postgres truncates identifiers.
fn truncate(s: &str) -> String {
    let mut end = s.len().min(MAX_IDENT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_in(sql: &str) -> Option<Name> {
        let parse = SourceFile::parse(sql);
        statement(&parse, 0).and_then(|s| s.tables.into_iter().next().flatten())
    }

    fn one(table: &str) -> Name {
        Name {
            schema: None,
            table: vec![table.into()],
        }
    }

    #[test]
    fn names_resolve_as_postgres_reads_them() {
        assert_eq!(
            name_in("ALTER TABLE U&\"\\0075sers\" ALTER COLUMN id DROP DEFAULT;"),
            Some(one("users"))
        );
        assert_eq!(
            name_in("alter table u&\"\\+000075s\\0065rs\" drop column x;"),
            Some(one("users"))
        );
        assert_eq!(
            name_in("ALTER TABLE U&\"d!0061t\" UESCAPE '!' DROP COLUMN x;"),
            None
        );
        let long = format!("t{}", "x".repeat(80));
        assert_eq!(
            name_in(&format!("alter table {long} drop column x;")),
            Some(one(&long[..63]))
        );
        assert_eq!(
            name_in("alter table public /* c */ . \"Big\" drop column x;"),
            Some(Name {
                schema: Some(vec!["public".into()]),
                table: vec!["Big".into()]
            })
        );
        assert_eq!(
            name_in("alter table Äpfel drop column x;"),
            Some(Name {
                schema: None,
                table: vec!["Äpfel".into(), "äpfel".into()]
            })
        );
        assert_eq!(
            name_in("create index i on only USERS (x);"),
            Some(one("users"))
        );
        // 63 bytes of two-byte characters: cut at a character boundary.
        let wide = "é".repeat(40);
        assert_eq!(
            name_in(&format!("alter table \"{wide}\" drop column x;")),
            Some(one(&"é".repeat(31)))
        );
    }

    #[test]
    fn created_means_a_new_oid_under_a_name_no_old_relation_has() {
        let cat = Catalog {
            before: Some(Relations::of(&[(1, "public", "users", 'r')])),
            after: Some(Relations::of(&[
                (1, "public", "users", 'r'),
                (2, "public", "t", 'r'),
                (3, "audit", "users", 'r'),
            ])),
        };
        assert!(cat.all_created(&[one("t")]));
        assert!(!cat.all_created(&[one("users")]));
        assert!(!cat.all_created(&[one("gone")]));
        assert!(cat.all_created(&[Name {
            schema: Some(vec!["audit".into()]),
            table: vec!["users".into()]
        }]));
        assert!(!Catalog::default().all_created(&[one("t")]));
        // Dropped in the run: never in the catalog; an old relation gone keeps the finding.
        assert!(cat.all_created_and_dropped(&[one("tmp")]));
        assert!(!cat.all_created_and_dropped(&[one("users")]));
        let gone = Catalog {
            before: cat.before.clone(),
            after: Some(Relations::of(&[(2, "public", "t", 'r')])),
        };
        assert!(!gone.all_created_and_dropped(&[one("tmp")]));
    }
}
