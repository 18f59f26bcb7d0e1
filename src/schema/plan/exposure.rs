//! What a view or a `SECURITY DEFINER` function lets other roles read without any GRANT
//! changing: a view (not `security_invoker`) reads its tables with its owner's privileges for
//! every caller, and so does a `SECURITY DEFINER` function. Redefined to read a column or a
//! table it did not read before, it hands its grantees that data although no privilege
//! changed (attack10 p49/F23: `CREATE OR REPLACE VIEW pub_acct AS SELECT id, name,
//! password_hash …`, granted to an application role, passed). Such a change carries an
//! `authz_update` hazard naming the grantees and what they can now read.
//!
//! What a view reads is its dependencies (`pg_depend` of its rule: columns, relations),
//! through the views it reads, on both sides. A view only created again (a
//! retyped column under it, a changed condition) reads the same and gets no hazard; a view
//! new under its name gets its grants' own hazards instead.

use std::collections::BTreeSet;

use super::super::model::{DepKey, Grantee, Model};
use super::Cx;

/// The hazard text for view (or materialized view) `k` of B, created again by the plan, when
/// it reads what it did not before and roles other than its owner may read it.
pub(super) fn view(x: &Cx<'_>, k: &str) -> Option<String> {
    let v = x.b.views.get(k)?;
    if !v.materialized && option_on(&v.options, "security_invoker") {
        return None;
    }
    // A view new under its name: its GRANTs carry their own hazard. One that replaces a
    // table (or a sequence) read nothing through an owner before.
    let was_relation = x.a.tables.contains_key(k) || x.a.sequences.contains_key(k);
    if !x.a.views.contains_key(k) && !was_relation {
        return None;
    }
    let what = if v.materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    };
    let grantees = readers(x.b, what, k);
    if grantees.is_empty() {
        return None;
    }
    let key = DepKey::Rel(k.to_owned());
    let new = new_reads(&reads(x.a, &key, false), &reads(x.b, &key, false));
    if new.is_empty() {
        return None;
    }
    Some(format!(
        "{} {k} is readable by {} and reads its tables with its owner's privileges ({}), not theirs: it now reads {} — they can read that through it although no GRANT changed",
        what.to_lowercase(),
        grantees.join(", "),
        owner(x.b, &format!("{what} {k}")),
        new.join(", ")
    ))
}

/// The hazard text for function `k` of B, `SECURITY DEFINER` on both sides with a new
/// definition, when roles other than its owner may call it (PUBLIC unless revoked). Its body
/// is not parsed: what it reads is known only for a SQL-standard body (its dependencies). A
/// new `SECURITY DEFINER` function others may call (by default PUBLIC: no GRANT says so)
/// carries one too: everything it reads is new to them. (One made `SECURITY DEFINER` has its
/// own hazard, in `functions`.)
pub(super) fn function(x: &Cx<'_>, k: &str) -> Option<String> {
    let new = x.b.functions.get(k)?;
    let old = x.a.functions.get(k);
    let changes = match old {
        Some(o) => o.definition != new.definition && definer(&o.definition),
        None => true,
    };
    if !changes || !definer(&new.definition) {
        return None;
    }
    let what = match new.kind {
        super::super::model::FunctionKind::Procedure => "PROCEDURE",
        _ => "FUNCTION",
    };
    let callers = callers(x.b, &format!("{what} {k}"));
    if callers.is_empty() {
        return None;
    }
    if old.is_none() {
        return Some(format!(
            "new SECURITY DEFINER {} {k} is callable by {}: it runs with its owner's privileges ({}) for them — review what its body reads and writes",
            what.to_lowercase(),
            callers.join(", "),
            owner(x.b, &format!("{what} {k}"))
        ));
    }
    let key = DepKey::Fn(k.to_owned());
    let new_reads = new_reads(&reads(x.a, &key, true), &reads(x.b, &key, true));
    let reads = if new_reads.is_empty() {
        String::new()
    } else {
        format!(" (it now reads {})", new_reads.join(", "))
    };
    Some(format!(
        "SECURITY DEFINER {} {k} is callable by {} and its definition changes{reads}: what it reads and writes with its owner's privileges ({}) changes for them although no GRANT changed — review its new body",
        what.to_lowercase(),
        callers.join(", "),
        owner(x.b, &format!("{what} {k}"))
    ))
}

/// Whether a function's definition (`pg_get_functiondef`) says `SECURITY DEFINER`: on one of
/// the option lines after the first (indented; ` STABLE SECURITY DEFINER` too), before the
/// body (`AS …`, `RETURN …`, `BEGIN ATOMIC`, at the start of a line).
pub(super) fn definer(definition: &str) -> bool {
    definition
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.windows(2).any(|w| w == ["SECURITY", "DEFINER"])
        })
}

/// Whether reloption `name` is on in `opts` (`name=value`).
pub(super) fn option_on(opts: &[String], name: &str) -> bool {
    opts.iter().any(|o| {
        o.split_once('=')
            .is_some_and(|(n, v)| n == name && matches!(v, "true" | "on" | "1" | "yes"))
    })
}

fn grantee_name(g: &Grantee) -> Option<String> {
    match g {
        Grantee::Public => Some("PUBLIC (every role)".to_owned()),
        Grantee::Role(r) => Some(format!("role {r}")),
        Grantee::Owner => None,
    }
}

/// Roles other than the owner that may `SELECT` from relation `k` (`what`: `VIEW`,
/// `MATERIALIZED VIEW`), or from one of its columns. The default ACL of a relation gives
/// nobody else anything.
fn readers(m: &Model, what: &str, k: &str) -> Vec<String> {
    let column = format!("COLUMN {k}.");
    let mut out = BTreeSet::new();
    for (key, acl) in &m.privileges {
        if key != &format!("{what} {k}") && !key.starts_with(&column) {
            continue;
        }
        for i in acl.granted.iter().filter(|i| i.privilege == "SELECT") {
            out.extend(grantee_name(&i.grantee));
        }
    }
    out.into_iter().collect()
}

/// Roles other than the owner that may execute routine `key` (`FUNCTION public.f(integer)`):
/// PUBLIC by default, unless revoked.
fn callers(m: &Model, key: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    let acl = m.privileges.get(key);
    let public_revoked = acl.is_some_and(|a| {
        a.revoked
            .iter()
            .any(|i| i.grantee == Grantee::Public && i.privilege == "EXECUTE")
    });
    if !public_revoked {
        out.insert("PUBLIC (every role)".to_owned());
    }
    for i in acl
        .into_iter()
        .flat_map(|a| a.granted.iter())
        .filter(|i| i.privilege == "EXECUTE")
    {
        out.extend(grantee_name(&i.grantee));
    }
    out.into_iter().collect()
}

fn owner(m: &Model, key: &str) -> String {
    m.owners
        .get(key)
        .map(|o| format!("role {o}"))
        .unwrap_or_else(|| format!("role {}", m.connected_as))
}

/// What `key` reads in `m`: the columns, relations and (`functions`) functions it depends
/// on, and what the views among them read, at any depth. A function a view calls runs as
/// its caller (or its own owner), never as the view's owner, and its EXECUTE is checked
/// against the caller: it hands a view's grantees nothing, so a view's reads leave it out.
fn reads(m: &Model, key: &DepKey, functions: bool) -> BTreeSet<DepKey> {
    let mut out = BTreeSet::new();
    let mut todo = vec![key.clone()];
    let mut seen = BTreeSet::new();
    while let Some(k) = todo.pop() {
        if !seen.insert(k.clone()) || seen.len() > 10_000 {
            continue;
        }
        for d in m.deps.get(&k).into_iter().flatten() {
            match d {
                DepKey::Col(_) => {
                    out.insert(d.clone());
                }
                DepKey::Fn(_) if functions => {
                    out.insert(d.clone());
                }
                DepKey::Rel(r) => {
                    out.insert(d.clone());
                    if m.views.contains_key(r) {
                        todo.push(d.clone());
                    }
                }
                _ => {}
            }
        }
    }
    out.remove(key);
    out
}

/// What B reads that A did not, as names: columns (`public.t.c`), relations read as a whole
/// (none of whose columns is new), functions (`public.f(integer)`).
fn new_reads(a: &BTreeSet<DepKey>, b: &BTreeSet<DepKey>) -> Vec<String> {
    let new: Vec<&DepKey> = b.difference(a).collect();
    let column_of = |r: &str| {
        new.iter()
            .any(|d| matches!(d, DepKey::Col(_)) && d.relation() == Some(r))
    };
    new.iter()
        .filter_map(|d| match d {
            DepKey::Col(c) => Some(format!("column {c}")),
            DepKey::Rel(r) if !column_of(r) => Some(r.clone()),
            DepKey::Fn(f) => Some(format!("function {f}")),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definer_is_read_from_the_option_lines_only() {
        let def = "CREATE OR REPLACE FUNCTION public.f(i integer)\n RETURNS text\n LANGUAGE sql\n STABLE SECURITY DEFINER\nRETURN 'x'";
        assert!(definer(def));
        assert!(definer(&def.replace(" STABLE SECURITY", " SECURITY")));
        assert!(!definer(&def.replace("SECURITY DEFINER", "LEAKPROOF")));
        let body = "CREATE OR REPLACE FUNCTION public.f()\n RETURNS text\n LANGUAGE plpgsql\nAS $function$\n SECURITY DEFINER\n$function$";
        assert!(!definer(body));
    }

    #[test]
    fn new_reads_names_new_columns_and_whole_relations() {
        let a: BTreeSet<DepKey> = [
            DepKey::Rel("public.acct".into()),
            DepKey::Col("public.acct.id".into()),
        ]
        .into();
        let mut b = a.clone();
        b.insert(DepKey::Col("public.acct.password_hash".into()));
        assert_eq!(new_reads(&a, &b), ["column public.acct.password_hash"]);
        b.insert(DepKey::Rel("public.secrets".into()));
        assert_eq!(
            new_reads(&a, &b),
            ["column public.acct.password_hash", "public.secrets"]
        );
        assert!(new_reads(&b, &b).is_empty());
    }
}
