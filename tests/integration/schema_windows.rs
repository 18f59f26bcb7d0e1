//! More windows every fixture's plan is checked for (beside `schema::check_security_windows`),
//! each a stretch of a plan that runs statement by statement where an object is missing or
//! unprotected: it must be one `BEGIN` … `COMMIT`, or a hazard on its first statement must
//! name it (` from here until `…).
//! - a table's policy or trigger dropped and another (a renamed one, attack8
//!   F-rename-window) created on it later;
//! - a view dropped and created again (F-view-window);
//! - a view, materialized view or table created and given its owner or privileges later
//!   (it has the default privileges meanwhile, F-defpriv-window);
//! - a table created and given its row-level security, policies or triggers later (granted
//!   meanwhile without them, F20 sw_newtable_rls);
//! - a foreign key dropped (for the key it rests on) and added again: the hazard names the
//!   statement that adds it.

use neon_migrate::schema::{HazardKind, Plan, Statement};

pub fn check(plan: &Plan) -> Result<(), String> {
    let st = &plan.statements;
    if st.iter().all(|s| s.transactional) {
        return Ok(());
    }
    for (i, s) in st.iter().enumerate() {
        let found = [
            table_guard_window(st, i),
            view_window(st, i),
            privilege_window(st, i),
            new_table_window(st, i),
        ];
        for (what, last) in found.into_iter().flatten() {
            if !in_one_transaction(st, i, last) && !named(s, None) {
                return Err(format!(
                    "{what} window: in a plan that runs statement by statement, `{}` … `{}` is not in one BEGIN … COMMIT, and no hazard on it names the window",
                    first_line(s),
                    first_line(&st[last])
                ));
            }
        }
        if let Some(last) = fk_window(st, i) {
            let until = first_line(&st[last]);
            if !in_one_transaction(st, i, last) && !named(s, Some(until)) {
                return Err(format!(
                    "foreign key window: in a plan that runs statement by statement, `{}` … `{until}` is not in one BEGIN … COMMIT, and no hazard on the drop names that stretch exactly",
                    first_line(s),
                ));
            }
        }
    }
    Ok(())
}

fn first_line(s: &Statement) -> &str {
    s.sql.lines().next().unwrap_or("")
}

/// The word after `word ` in `sql` (`ON public.t`).
fn after<'s>(sql: &'s str, word: &str) -> Option<&'s str> {
    let at = sql.find(word)? + word.len();
    sql[at..].split_whitespace().next()
}

/// `DROP POLICY p ON t` / `DROP TRIGGER x ON t`, and the last later `CREATE POLICY` /
/// `CREATE [CONSTRAINT] TRIGGER` of any name on `t`.
fn table_guard_window(st: &[Statement], i: usize) -> Option<(&'static str, usize)> {
    let sql = &st[i].sql;
    let kind = ["POLICY", "TRIGGER"]
        .into_iter()
        .find(|k| sql.starts_with(&format!("DROP {k} ")))?;
    let table = after(sql, " ON ")?.trim_end_matches(';');
    let name = after(sql, &format!("DROP {kind} "))?;
    // Any created on the table; one replaced in place only under the dropped one's name.
    let creates = |s: &Statement| {
        let new = [
            format!("CREATE {kind} "),
            format!("CREATE CONSTRAINT {kind} "),
        ]
        .iter()
        .any(|h| s.sql.starts_with(h.as_str()));
        let again = s
            .sql
            .starts_with(&format!("CREATE OR REPLACE {kind} {name} "));
        (new || again) && after(&s.sql, " ON ") == Some(table)
    };
    let last = (i + 1..st.len()).rev().find(|&j| creates(&st[j]))?;
    Some((
        if kind == "POLICY" {
            "policy"
        } else {
            "trigger"
        },
        last,
    ))
}

/// `DROP [MATERIALIZED] VIEW v`, and its `CREATE [MATERIALIZED] VIEW v` later.
fn view_window(st: &[Statement], i: usize) -> Option<(&'static str, usize)> {
    let sql = &st[i].sql;
    let (kind, name) = ["MATERIALIZED VIEW", "VIEW"].into_iter().find_map(|k| {
        let rest = sql.strip_prefix(&format!("DROP {k} "))?;
        Some((k, rest.trim_end_matches(';').split_whitespace().next()?))
    })?;
    let head = format!("CREATE {kind} {name} ");
    let last = (i + 1..st.len()).find(|&j| st[j].sql.starts_with(&head))?;
    Some(("view", last))
}

/// `CREATE [MATERIALIZED] VIEW v` / `CREATE TABLE t`, and the last later GRANT, REVOKE or
/// owner change of it.
fn privilege_window(st: &[Statement], i: usize) -> Option<(&'static str, usize)> {
    let sql = &st[i].sql;
    let name = ["CREATE MATERIALIZED VIEW ", "CREATE VIEW ", "CREATE TABLE "]
        .into_iter()
        .find_map(|h| sql.strip_prefix(h))?
        .split([' ', '(', '\n'])
        .next()?;
    let secures = |s: &Statement| {
        let t = &s.sql;
        let grant = (t.starts_with("GRANT ") || t.starts_with("REVOKE "))
            && after(t, " ON TABLE ") == Some(name);
        let owner = ["ALTER TABLE ", "ALTER VIEW ", "ALTER MATERIALIZED VIEW "]
            .iter()
            .any(|h| t.starts_with(&format!("{h}{name} OWNER TO ")));
        grant || owner
    };
    let last = (i + 1..st.len()).rev().find(|&j| secures(&st[j]))?;
    Some(("privilege", last))
}

/// `CREATE TABLE t`, and the last later `ENABLE`/`FORCE ROW LEVEL SECURITY`, `CREATE POLICY`
/// or `CREATE TRIGGER` on it.
fn new_table_window(st: &[Statement], i: usize) -> Option<(&'static str, usize)> {
    let name = st[i]
        .sql
        .strip_prefix("CREATE TABLE ")?
        .split([' ', '(', '\n'])
        .next()?;
    let guards = |s: &Statement| {
        let t = &s.sql;
        let rls = [" ENABLE ROW LEVEL SECURITY", " FORCE ROW LEVEL SECURITY"]
            .iter()
            .any(|v| *t == format!("ALTER TABLE {name}{v};"));
        let on = [
            "CREATE POLICY ",
            "CREATE TRIGGER ",
            "CREATE CONSTRAINT TRIGGER ",
        ]
        .iter()
        .any(|h| t.starts_with(h))
            && after(t, " ON ") == Some(name);
        rls || on
    };
    let last = (i + 1..st.len()).rev().find(|&j| guards(&st[j]))?;
    Some(("new table's row security", last))
}

/// `ALTER TABLE t DROP CONSTRAINT n` of a foreign key added again later (`ALTER TABLE t ADD
/// CONSTRAINT n FOREIGN KEY`): that statement.
fn fk_window(st: &[Statement], i: usize) -> Option<usize> {
    let (table, name) = st[i]
        .sql
        .strip_prefix("ALTER TABLE ")?
        .split_once(" DROP CONSTRAINT ")?;
    let name = name.trim_end_matches(';');
    let add = format!("ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ");
    (i + 1..st.len()).find(|&j| st[j].sql.starts_with(&add))
}

/// Whether a hazard on `s` names a window (` from here until `), up to `until` when given.
fn named(s: &Statement, until: Option<&str>) -> bool {
    s.hazards.iter().any(|h| {
        matches!(h.kind, HazardKind::AuthzUpdate | HazardKind::Correctness)
            && h.message.contains(" from here until ")
            && until.is_none_or(|u| h.message.contains(&format!("until `{u}`")))
    })
}

/// Whether statements `from..=to` run in one transaction: a `BEGIN` before `from` is not
/// closed until after `to`.
fn in_one_transaction(st: &[Statement], from: usize, to: usize) -> bool {
    let Some(begin) = (0..from).rev().find(|&n| st[n].sql == "BEGIN;") else {
        return false;
    };
    !st[begin..=to].iter().any(|s| s.sql == "COMMIT;")
}
