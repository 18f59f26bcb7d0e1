//! Security windows: the stretch of a plan where an object exists without what protects it —
//! a policy or trigger dropped and not yet created again, a function or type created and not
//! yet given its owner and privileges (a new function is executable by PUBLIC, runs a
//! `SECURITY DEFINER` body as the role running the plan). A statement that opens one is
//! tagged [`Stmt::opens`], the statements that close it [`Stmt::closes`] (or
//! [`Stmt::secures`]: owner and privilege statements, which may run as soon as the object
//! exists).
//!
//! Phases alone would leave a non-transactional statement — a `CREATE INDEX CONCURRENTLY`
//! of up to the long timeout — inside a window, each statement committing on its own. After
//! the phases have ordered the plan, [`close`]:
//! 1. moves owner and privilege statements up to right before the first non-transactional
//!    statement after their object's creation;
//! 2. moves the concurrent index builds of [`Phase::CreateIndexes`] (nothing before the
//!    security statements needs them) after the windows that hold them;
//! 3. warns (an `authz_update` hazard) of any window still holding a non-transactional
//!    statement;
//! 4. in a plan that runs statement by statement (it has a non-transactional statement),
//!    wraps every remaining window in `BEGIN` … `COMMIT`, so that no other session ever sees
//!    the object unprotected — long work in it too when it holds its table ACCESS EXCLUSIVE
//!    anyway (a rewrite) or the window already does (a hazard says the locks are held through
//!    it); other long work (a validation of another table) leaves the window unwrapped, and
//!    a hazard names it.

use std::collections::BTreeMap;

use super::{h, HazardKind, Phase, Statement};

/// Reorders `st` (ordered by phase) so that no security window holds a non-transactional
/// statement where that can be avoided, and makes each window one transaction.
pub(super) fn close(mut st: Vec<Statement>) -> Vec<Statement> {
    if !st.iter().any(|s| s.opens.is_some()) {
        return st;
    }
    st = pull_secures(st);
    st = push_builds(st);
    warn_open(&mut st);
    if st.iter().any(|s| !s.transactional) {
        st = wrap(st);
    }
    st
}

/// Every window: (opener position, last closer position), for closers after the opener.
fn windows(st: &[Statement]) -> Vec<(usize, usize)> {
    let mut open: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, s) in st.iter().enumerate() {
        if let Some(k) = &s.opens {
            open.entry(k.as_str()).or_insert(i);
        }
        let closed = s.closes.as_deref().or(s.secures.as_deref());
        if let Some(&o) = closed.and_then(|k| open.get(k)) {
            if o < i {
                let e = out.entry(o).or_insert(i);
                *e = (*e).max(i);
            }
        }
    }
    out.into_iter().collect()
}

/// Windows (sorted by opener) merged where they overlap.
fn merge(windows: impl IntoIterator<Item = (usize, usize)>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (o, c) in windows {
        match out.last_mut() {
            Some(last) if o <= last.1 => last.1 = last.1.max(c),
            _ => out.push((o, c)),
        }
    }
    out
}

/// Step 1: owner and privilege statements of a created object move up to right before the
/// first non-transactional statement after its creation (keeping their order).
fn pull_secures(st: Vec<Statement>) -> Vec<Statement> {
    let mut opened: BTreeMap<&str, usize> = BTreeMap::new();
    let mut target: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, s) in st.iter().enumerate() {
        if let Some(k) = &s.opens {
            opened.entry(k.as_str()).or_insert(i);
        }
        let Some(&o) = s.secures.as_deref().and_then(|k| opened.get(k)) else {
            continue;
        };
        if let Some(n) = (o + 1..i).find(|&n| !st[n].transactional) {
            target.insert(i, n);
        }
    }
    if target.is_empty() {
        return st;
    }
    let mut before: BTreeMap<usize, Vec<Statement>> = BTreeMap::new();
    let mut rest: Vec<(usize, Statement)> = Vec::with_capacity(st.len());
    for (i, s) in st.into_iter().enumerate() {
        match target.get(&i) {
            Some(&n) => before.entry(n).or_default().push(s),
            None => rest.push((i, s)),
        }
    }
    let mut out = Vec::with_capacity(rest.len() + target.len());
    for (i, s) in rest {
        out.extend(before.remove(&i).unwrap_or_default());
        out.push(s);
    }
    out
}

/// Step 2: concurrent index builds inside a window move to right after it — but for the
/// window of a foreign key, whose re-add may need the build (a key that is a plain unique
/// index).
fn push_builds(st: Vec<Statement>) -> Vec<Statement> {
    let spans = merge(windows(&st).into_iter().filter(|&(o, _)| !is_fkey(&st[o])));
    let mut after: BTreeMap<usize, Vec<Statement>> = BTreeMap::new();
    let mut moved = BTreeMap::new();
    for (i, s) in st.iter().enumerate() {
        if !s.transactional && s.phase == Phase::CreateIndexes {
            if let Some(&(_, to)) = spans.iter().find(|(o, c)| *o < i && i < *c) {
                moved.insert(i, to);
            }
        }
    }
    if moved.is_empty() {
        return st;
    }
    let mut out = Vec::with_capacity(st.len());
    for (i, s) in st.into_iter().enumerate() {
        if let Some(&to) = moved.get(&i) {
            after.entry(to).or_default().push(s);
            continue;
        }
        out.push(s);
        out.extend(after.remove(&i).unwrap_or_default());
    }
    out
}

/// Whether `s` opens the window of a key (dropped, or swapped, and added again).
fn is_key(s: &Statement) -> bool {
    s.opens.as_deref().is_some_and(|k| k.starts_with("KEY "))
}

/// Whether `s` opens the window of a foreign key dropped for the key it rests on.
fn is_fkey(s: &Statement) -> bool {
    s.opens.as_deref().is_some_and(|k| k.starts_with("FKEY "))
}

/// The hazard of a foreign key's window that stays open: `why` says what runs in it.
fn fkey_open(until: &str, why: &str) -> super::Hazard {
    h(
        HazardKind::Correctness,
        format!("the table is without this foreign key from here until `{until}`, while {why}: rows written meanwhile are not checked against it, and may make its VALIDATE fail"),
    )
}

/// Whether `s` opens the window of a view dropped and created again.
fn is_view(s: &Statement) -> bool {
    s.opens
        .as_deref()
        .is_some_and(|k| k.starts_with("REBUILT "))
}

/// Whether `s` opens the window of a materialized view dropped and populated again: its
/// population is long work of its own, so the window is not made one transaction (that
/// would hold every lock before it through the query), and is named instead.
fn is_matview(s: &Statement) -> bool {
    s.opens
        .as_deref()
        .is_some_and(|k| k.starts_with("REBUILT MATERIALIZED VIEW "))
}

/// Step 4's materialized views: each window of one that no `BEGIN` … `COMMIT` of `spans`
/// holds whole is named.
fn name_matviews(st: &mut [Statement], spans: &[(usize, usize)]) {
    for (o, c) in windows(st) {
        let held = spans.iter().any(|&(b, e)| b <= o && c <= e);
        if !is_matview(&st[o])
            || held
            || st[o]
                .hazards
                .iter()
                .any(|h| h.message.contains(" from here until "))
        {
            continue;
        }
        let until = st[c].sql.lines().next().unwrap_or("").to_owned();
        let why = "the statements in between commit one by one".to_owned();
        st[o].hazards.push(view_open(&until, &why));
    }
}

/// The hazard of a view's window that stays open: `why` says what runs in it.
fn view_open(until: &str, why: &str) -> super::Hazard {
    h(
        HazardKind::Correctness,
        format!("the view is missing from here until `{until}`, while {why}: queries that read it fail meanwhile, and should that statement fail, the view stays dropped"),
    )
}

/// Step 3: a window that still holds a non-transactional statement says so on its opener.
fn warn_open(st: &mut [Statement]) {
    for (o, c) in windows(st) {
        if let Some(n) = (o + 1..c).find(|&n| !st[n].transactional) {
            let what = st[n].sql.lines().next().unwrap_or("").to_owned();
            let until = st[c].sql.lines().next().unwrap_or("").to_owned();
            let why = format!("`{what}` runs outside a transaction");
            if is_fkey(&st[o]) {
                st[o].hazards.push(fkey_open(&until, &why));
                continue;
            }
            if is_view(&st[o]) {
                st[o].hazards.push(view_open(&until, &why));
                continue;
            }
            st[o].hazards.push(if is_key(&st[o]) {
                h(
                    HazardKind::Correctness,
                    format!("the table is without this key (and the foreign keys on it) from here until `{until}`, while `{what}` runs outside a transaction: rows written meanwhile are not checked, and may make it fail"),
                )
            } else {
                h(
                    HazardKind::AuthzUpdate,
                    format!("the object is without its policy, trigger, owner or privileges from here until `{until}`, while `{what}` runs outside a transaction"),
                )
            });
        }
    }
}

/// The table a statement locks ACCESS EXCLUSIVE by its form (`ALTER TABLE t …`, `DROP
/// POLICY p ON t`, `DROP TRIGGER x ON t`), as the plan spells it.
fn table_of(sql: &str) -> Option<&str> {
    if let Some(rest) = sql.strip_prefix("ALTER TABLE ") {
        let rest = rest.strip_prefix("ONLY ").unwrap_or(rest);
        let mut quoted = false;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    quoted = !quoted;
                }
                c == ' ' && !quoted
            })
            .map_or(rest.len(), |(i, _)| i);
        return Some(&rest[..end]);
    }
    if sql.starts_with("DROP POLICY ") || sql.starts_with("DROP TRIGGER ") {
        let (_, t) = sql.rsplit_once(" ON ")?;
        return Some(t.trim_end_matches(';'));
    }
    None
}

/// Whether long work (a rewrite, a validation, a locked index build) may run inside the
/// transaction of a window: it holds its table ACCESS EXCLUSIVE anyway, or an earlier
/// statement of the window already does.
fn covered(before: &[Statement], s: &Statement) -> bool {
    let exclusive = |s: &Statement| {
        s.sql.starts_with("DROP POLICY ")
            || s.sql.starts_with("DROP TRIGGER ")
            || s.hazards
                .iter()
                .any(|h| h.kind == HazardKind::AccessExclusiveLock)
    };
    if exclusive(s) {
        return true;
    }
    let Some(t) = table_of(&s.sql) else {
        return false;
    };
    before
        .iter()
        .any(|b| exclusive(b) && table_of(&b.sql) == Some(t))
}

/// Whether the window `o..=c` (of transactional statements) can be one transaction: its long
/// work is [`covered`]. `short`: the ordinary statement timeout.
fn wrappable(st: &[Statement], (o, c): (usize, usize), short: u64) -> bool {
    let span = &st[o..=c];
    span.iter()
        .enumerate()
        .all(|(i, s)| s.statement_timeout_ms <= short || covered(&span[..i], s))
}

/// The ordinary statement timeout of a plan: its shortest.
fn short_timeout(st: &[Statement]) -> u64 {
    st.iter().map(|s| s.statement_timeout_ms).min().unwrap_or(0)
}

/// Step 4: each window without non-transactional statements, whose long work (a table
/// rewrite) locks its table anyway, becomes one transaction: the object is never seen
/// without its policy, trigger or key. Long work in it says so: the transaction holds every
/// lock its statements take until its `COMMIT`. A window left as it is (long work that would
/// hold the window's locks) says so too.
fn wrap(mut st: Vec<Statement>) -> Vec<Statement> {
    let short = short_timeout(&st);
    let mut spans = Vec::new();
    // A window holding a non-transactional statement is said by step 3; the others, even
    // inside it, are wrapped.
    let transactional = windows(&st)
        .into_iter()
        .filter(|&(o, c)| st[o..=c].iter().all(|s| s.transactional) && !is_matview(&st[o]));
    for w in merge(transactional) {
        let long = (w.0 + 1..=w.1).find(|&n| st[n].statement_timeout_ms > short);
        let Some(n) = long else {
            spans.push(w);
            continue;
        };
        let what = st[n].sql.lines().next().unwrap_or("").to_owned();
        let until = st[w.1].sql.lines().next().unwrap_or("").to_owned();
        if wrappable(&st, w, short) {
            st[w.0].hazards.push(h(
                HazardKind::AccessExclusiveLock,
                format!("runs in one transaction with `{what}` and up to `{until}`: the locks taken until then are held through it, so that no session sees the table without its policy, trigger or key"),
            ));
            spans.push(w);
        } else if is_fkey(&st[w.0]) {
            let why = format!("`{what}` runs (long work, not in one transaction with it)");
            st[w.0].hazards.push(fkey_open(&until, &why));
        } else if is_view(&st[w.0]) {
            let why = format!("`{what}` runs (long work, not in one transaction with it)");
            st[w.0].hazards.push(view_open(&until, &why));
        } else if is_key(&st[w.0]) {
            st[w.0].hazards.push(h(
                HazardKind::Correctness,
                format!("the table is without this key (and the foreign keys on it) from here until `{until}`, while `{what}` runs (long work, not in one transaction with it): rows written meanwhile are not checked, and may make it fail"),
            ));
        } else {
            st[w.0].hazards.push(h(
                HazardKind::AuthzUpdate,
                format!("the object is without its policy, trigger, owner or privileges from here until `{until}`, while `{what}` runs (long work, not in one transaction with it)"),
            ));
        }
    }
    name_matviews(&mut st, &spans);
    if spans.is_empty() {
        return st;
    }
    let mut out = Vec::with_capacity(st.len() + 2 * spans.len());
    let mut next = spans.iter().peekable();
    for (i, s) in st.into_iter().enumerate() {
        let here = next.peek().copied().copied();
        if here.is_some_and(|(o, _)| o == i) {
            out.push(bare(&s, "BEGIN;"));
        }
        let last = here.is_some_and(|(_, c)| c == i);
        let commit = last.then(|| bare(&s, "COMMIT;"));
        out.push(s);
        if let Some(c) = commit {
            out.push(c);
            next.next();
        }
    }
    out
}

fn bare(like: &Statement, sql: &str) -> Statement {
    Statement {
        sql: sql.to_owned(),
        hazards: Vec::new(),
        transactional: true,
        lock_timeout_ms: like.lock_timeout_ms,
        statement_timeout_ms: like.statement_timeout_ms,
        phase: like.phase,
        opens: None,
        closes: None,
        secures: None,
        lint_exempt: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(phase: Phase, sql: &str, txn: bool) -> Statement {
        Statement {
            sql: sql.into(),
            hazards: Vec::new(),
            transactional: txn,
            lock_timeout_ms: 1,
            statement_timeout_ms: 1,
            phase,
            opens: None,
            closes: None,
            secures: None,
            lint_exempt: None,
        }
    }

    fn sqls(v: &[Statement]) -> Vec<&str> {
        v.iter().map(|s| s.sql.as_str()).collect()
    }

    #[test]
    fn no_drop_precedes_a_concurrent_statement_whose_re_create_follows_it() {
        let mut drop = st(Phase::DropTriggersAndPolicies, "DROP POLICY p", true);
        drop.opens = Some("POLICY p".into());
        let mut create = st(Phase::SecurityAndTriggers, "CREATE POLICY p", true);
        create.closes = Some("POLICY p".into());
        let mut f = st(Phase::RecreateFunctions, "CREATE FUNCTION f", true);
        f.opens = Some("FUNCTION f".into());
        let mut revoke = st(Phase::SecurityAndTriggers, "REVOKE f", true);
        revoke.secures = Some("FUNCTION f".into());
        let plan = vec![
            drop,
            st(Phase::AlterTables, "ALTER TABLE t", true),
            f,
            st(Phase::CreateIndexes, "CREATE INDEX CONCURRENTLY i", false),
            create,
            revoke,
            st(Phase::Comments, "COMMENT", true),
        ];
        let out = close(plan);
        assert_eq!(
            sqls(&out),
            [
                "BEGIN;",
                "DROP POLICY p",
                "ALTER TABLE t",
                "CREATE FUNCTION f",
                "REVOKE f",
                "CREATE POLICY p",
                "COMMIT;",
                "CREATE INDEX CONCURRENTLY i",
                "COMMENT"
            ]
        );
        // Every window is closed before the concurrent statement, and none is left open.
        assert!(out.iter().all(|s| s.hazards.is_empty()));
    }

    #[test]
    fn a_rewrite_inside_a_window_runs_in_its_transaction_other_long_work_is_named() {
        let long = |phase, sql: &str| {
            let mut s = st(phase, sql, true);
            s.statement_timeout_ms = 9;
            s
        };
        let mut drop = st(
            Phase::DropTriggersAndPolicies,
            "DROP POLICY p ON public.t",
            true,
        );
        drop.opens = Some("POLICY p".into());
        let mut rewrite = long(
            Phase::AlterTables,
            "ALTER TABLE public.t ALTER COLUMN c TYPE bigint",
        );
        rewrite
            .hazards
            .push(h(HazardKind::AccessExclusiveLock, "x"));
        let validate = long(
            Phase::AlterTables,
            "ALTER TABLE public.t VALIDATE CONSTRAINT k",
        );
        let mut create = st(Phase::SecurityAndTriggers, "CREATE POLICY p", true);
        create.closes = Some("POLICY p".into());
        let cic = st(Phase::CreateIndexes, "CREATE INDEX CONCURRENTLY i", false);
        let plan = vec![drop, rewrite, validate, create, cic];
        let out = close(plan.clone());
        assert_eq!(
            sqls(&out),
            [
                "BEGIN;",
                "DROP POLICY p ON public.t",
                "ALTER TABLE public.t ALTER COLUMN c TYPE bigint",
                "ALTER TABLE public.t VALIDATE CONSTRAINT k",
                "CREATE POLICY p",
                "COMMIT;",
                "CREATE INDEX CONCURRENTLY i"
            ]
        );
        assert_eq!(out[1].hazards[0].kind, HazardKind::AccessExclusiveLock);
        // The validation of another table would hold the policy's table locked: not wrapped,
        // and said.
        let mut plan = plan;
        plan[2].sql = "ALTER TABLE public.u VALIDATE CONSTRAINT k".into();
        let out = close(plan);
        assert_eq!(out.len(), 5, "{:?}", sqls(&out));
        assert_eq!(out[0].hazards[0].kind, HazardKind::AuthzUpdate);
    }

    #[test]
    fn a_window_that_cannot_avoid_a_concurrent_statement_says_so() {
        let mut drop = st(Phase::DropTriggersAndPolicies, "DROP POLICY p", true);
        drop.opens = Some("POLICY p".into());
        let mut create = st(Phase::SecurityAndTriggers, "CREATE POLICY p", true);
        create.closes = Some("POLICY p".into());
        let plan = vec![
            drop,
            st(Phase::AddKeys, "CREATE UNIQUE INDEX CONCURRENTLY k", false),
            create,
        ];
        let out = close(plan);
        assert_eq!(out.len(), 3, "{:?}", sqls(&out));
        assert_eq!(out[0].hazards.len(), 1);
        assert_eq!(out[0].hazards[0].kind, HazardKind::AuthzUpdate);
    }
}
