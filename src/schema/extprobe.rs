//! What an extension's script really creates (F-extmember). A role that creates a trusted
//! extension owns it, so it can `ALTER EXTENSION citext ADD TABLE sneaky` (or a SECURITY
//! DEFINER function, or one that shadows a built-in): such a member is not made by
//! `CREATE EXTENSION`, yet the catalog net took every member of an extension the plan creates
//! as explained by that creation.
//!
//! So for each extension that is new (or at another version) on the judged side, the
//! extension is created at that version, in its schema, in an empty scratch database on the
//! same server (the caller makes and drops it), and its members' identities (kind and
//! qualified identity, as the net's `extension member` rows spell them) are read. A member
//! of the judged side that the script did not create is relabeled [`UNSCRIPTED`]: a kind
//! no model explains, so the net reports it (the diff exits 4, the schema check fails),
//! and the `shadowing` check judges it. Where no probe can be made, a [`NOT_CHECKED`] row
//! says so with the reason: the net reports it too — membership is never trusted silently.
//! Nothing is done (no query, no database) when no extension is new or changed.

use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::Client;

use super::catalog::{kind, Aspects, ObjectId};
use super::model::{Extension, Model};

/// The kind of the net row of an extension member its extension's script does not create.
pub const UNSCRIPTED: &str = "extension member not created by its extension's script";

/// The kind of the net row of an extension whose members could not be checked.
pub const NOT_CHECKED: &str = "extension members not checked";

const MEMBER: &str = "extension member";

/// The extensions of `b` (the judged side) that are not in `a` at the same version: those
/// whose members an `ALTER EXTENSION … ADD` could hide among the script's.
pub fn to_probe(a: &Model, b: &Model) -> Vec<(String, Extension)> {
    b.extensions
        .iter()
        .filter(|(name, e)| a.extensions.get(*name).map(|x| &x.version) != Some(&e.version))
        .filter(|_| b.catalog.is_some())
        .map(|(n, e)| (n.clone(), e.clone()))
        .collect()
}

/// The members' identities as the net's `extension member` rows spell them (`introspect::
/// catalog_more`), by extension: read under an empty `search_path`, as introspection is.
const MEMBERS: &str = r#"
SELECT quote_ident(e.extname), o.type || ' ' || o.identity
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid
  LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid,
  LATERAL pg_identify_object(d.classid, d.objid, 0) o
 WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::regclass
   AND (t.oid IS NULL OR t.typcategory <> 'A')"#;

/// What one probe learned: each extension's scripted members, or why they are not known.
pub type Probed = BTreeMap<String, Result<BTreeSet<String>, NoProbe>>;

/// Why an extension's script could not be probed (a server's message, redacted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoProbe(pub String);

/// Creates `exts` (names and schemas quoted, as the model holds them) in the empty database
/// `client` is connected to, and reads their members. An extension that cannot be created
/// (not available at that version, not allowed, its script fails) is not known, with the
/// server's reason; the others are still probed.
pub async fn probe(client: &Client, exts: &[(String, Extension)], b: &Model) -> Probed {
    let mut out = Probed::new();
    if let Err(e) = client.batch_execute("SET search_path = ''").await {
        for (name, _) in exts {
            out.insert(name.clone(), Err(NoProbe(crate::pg::describe(&e))));
        }
        return out;
    }
    for (name, e) in exts {
        // The extensions it requires first, as the judged side has them (their schemas
        // are in its members' identities); one that fails makes it fail, with the reason.
        for (req, r) in required(name, b) {
            let _ = client.batch_execute(&create_sql(&req, &r, b)).await;
        }
        if let Err(err) = client.batch_execute(&create_sql(name, e, b)).await {
            out.insert(name.clone(), Err(NoProbe(crate::pg::describe(&err))));
        }
    }
    match client.query(MEMBERS, &[]).await {
        Ok(rows) => {
            let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for r in rows {
                members.entry(r.get(0)).or_default().insert(r.get(1));
            }
            for (name, _) in exts {
                out.entry(name.clone())
                    .or_insert_with(|| Ok(members.remove(name).unwrap_or_default()));
            }
        }
        Err(err) => {
            for (name, _) in exts {
                out.insert(name.clone(), Err(NoProbe(crate::pg::describe(&err))));
            }
        }
    }
    out
}

/// The extensions `name` requires on `b`, transitively, each after those it requires.
fn required(name: &str, b: &Model) -> Vec<(String, Extension)> {
    fn visit(
        name: &str,
        b: &Model,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<(String, Extension)>,
    ) {
        let Some(e) = b.extensions.get(name) else {
            return;
        };
        for r in &e.requires {
            if seen.insert(r.clone()) {
                visit(r, b, seen, out);
                if let Some(x) = b.extensions.get(r) {
                    out.push((r.clone(), x.clone()));
                }
            }
        }
    }
    let (mut seen, mut out) = (BTreeSet::from([name.to_owned()]), Vec::new());
    visit(name, b, &mut seen, &mut out);
    out
}

/// `CREATE EXTENSION` of `e` at its version, in its schema (made first when it is one of the
/// judged side's own schemas; a schema the extension itself creates is left to it).
fn create_sql(name: &str, e: &Extension, b: &Model) -> String {
    let own_schema = e.schema == "public" || b.schemas.contains(&e.schema);
    let schema = if own_schema {
        format!(
            "CREATE SCHEMA IF NOT EXISTS {s}; CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA {s}",
            s = e.schema
        )
    } else {
        format!("CREATE EXTENSION IF NOT EXISTS {name} WITH")
    };
    format!(
        "{schema} VERSION {} CASCADE",
        crate::pg::literal(&e.version)
    )
}

/// Marks what `probed` shows: on `b`, each member of a probed extension that its script does
/// not create becomes an [`UNSCRIPTED`] row (and the same member on `a`, so one that was
/// already there before a version update compares with itself); an extension not probed gets
/// a [`NOT_CHECKED`] row with the reason. `a` is `None` where the current side is not the
/// caller's to change (the schema check's recording before the migration).
pub fn mark(a: Option<&mut Model>, b: &mut Model, probed: &Probed) {
    let Some(cb) = b.catalog.as_mut() else {
        return;
    };
    let mut moved: Vec<ObjectId> = Vec::new();
    for (id, _) in cb.iter() {
        if id.kind != MEMBER {
            continue;
        }
        if let Some(Ok(scripted)) = probed.get(&*id.parent) {
            if !scripted.contains(&*id.name) {
                moved.push(id.clone());
            }
        }
    }
    relabel(cb, &moved);
    if let Some(ca) = a.and_then(|a| a.catalog.as_mut()) {
        relabel(ca, &moved);
    }
    for (name, result) in probed {
        if let Err(reason) = result {
            let id = ObjectId {
                kind: kind(NOT_CHECKED),
                parent: "".into(),
                name: name.as_str().into(),
            };
            let aspects: Aspects = [Some(reason.0.as_str().into()), None, None, None];
            cb.insert(id, aspects);
        }
    }
}

fn relabel(c: &mut super::catalog::Catalog, ids: &[ObjectId]) {
    for id in ids {
        if let Some(aspects) = c.remove(id) {
            let new = ObjectId {
                kind: kind(UNSCRIPTED),
                ..id.clone()
            };
            c.insert(new, aspects);
        }
    }
}

/// Marks every extension of `exts` as not checked, for `reason` (no probe database).
pub fn not_checked(exts: &[(String, Extension)], reason: &str) -> Probed {
    exts.iter()
        .map(|(n, _)| (n.clone(), Err(NoProbe(reason.to_owned()))))
        .collect()
}

/// Undoes [`mark`]: the model as introspection made it (what a later comparison with a fresh
/// introspection expects).
pub fn unmark(m: &mut Model) {
    let Some(c) = m.catalog.as_mut() else {
        return;
    };
    let marked: Vec<ObjectId> = c
        .keys()
        .filter(|id| id.kind == UNSCRIPTED || id.kind == NOT_CHECKED)
        .cloned()
        .collect();
    for id in marked {
        if let Some(aspects) = c.remove(&id) {
            if id.kind == UNSCRIPTED {
                c.insert(
                    ObjectId {
                        kind: kind(MEMBER),
                        ..id
                    },
                    aspects,
                );
            }
        }
    }
}

/// The identities (`function public.length(character varying)`) of `m`'s members marked
/// [`UNSCRIPTED`], and the extensions marked [`NOT_CHECKED`]: what the `shadowing` check
/// judges as the migration's own.
pub fn marked(m: &Model) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut members, mut unchecked) = (BTreeSet::new(), BTreeSet::new());
    for id in m.catalog.iter().flat_map(|c| c.keys()) {
        if id.kind == UNSCRIPTED {
            members.insert(id.name.to_string());
        } else if id.kind == NOT_CHECKED {
            unchecked.insert(id.name.to_string());
        }
    }
    (members, unchecked)
}

/// The net's text for a marked row (`None`: not one): what differs, said plainly.
pub fn entry(id: &ObjectId, aspects: &Aspects, open: &[String], whence: &str) -> Option<String> {
    let not_modeled = super::catalog::NOT_MODELED;
    if id.kind == UNSCRIPTED {
        return Some(format!(
            "{not_modeled}: {} on extension {} is not created by the extension's script (added by `ALTER EXTENSION … ADD`?), so it is not explained by the extension ({}{whence})",
            id.name,
            id.parent,
            open.join(", ")
        ));
    }
    if id.kind == NOT_CHECKED {
        let reason = aspects[0].as_deref().unwrap_or("?");
        return Some(format!(
            "{not_modeled}: the members of extension {} were NOT checked against its script (no probe: {reason}); a member added by `ALTER EXTENSION … ADD` would not be seen",
            id.name
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::catalog::Catalog;

    fn ext(version: &str, requires: &[&str]) -> Extension {
        Extension {
            schema: "public".into(),
            version: version.into(),
            requires: requires.iter().map(|s| s.to_string()).collect(),
            members: Vec::new(),
        }
    }

    fn member(name: &str) -> ObjectId {
        ObjectId {
            kind: kind(MEMBER),
            parent: "citext".into(),
            name: name.into(),
        }
    }

    fn model(exts: &[(&str, Extension)], members: &[&str]) -> Model {
        let mut m = Model::default();
        for (n, e) in exts {
            m.extensions.insert(n.to_string(), e.clone());
        }
        let mut c = Catalog::new();
        for name in members {
            c.insert(member(name), [Some("d".into()), None, None, None]);
        }
        m.catalog = Some(c);
        m
    }

    /// Only extensions new or at another version are probed: none, nothing at all.
    #[test]
    fn only_new_or_changed_extensions_are_probed() {
        let a = model(&[("citext", ext("1.6", &[]))], &[]);
        assert!(to_probe(&a, &a).is_empty());
        let b = model(
            &[("citext", ext("1.6", &[])), ("cube", ext("1.5", &[]))],
            &[],
        );
        let names: Vec<String> = to_probe(&a, &b).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["cube"]);
        let c = model(&[("citext", ext("1.5", &[]))], &[]);
        assert_eq!(to_probe(&c, &a).len(), 1);
    }

    /// A member the script does not create is relabeled on both sides, an extension without a
    /// probe gets a row with the reason; `unmark` gives the catalog back as read.
    #[test]
    fn unscripted_members_are_marked_and_unmarked() {
        let fresh = ["function public.citext(character)", "table public.sneaky"];
        let mut a = model(&[], &["table public.sneaky"]);
        let mut b = model(&[("citext", ext("1.6", &[]))], &fresh);
        let read = b.catalog.clone();
        let probed: Probed = [
            (
                "citext".to_owned(),
                Ok(BTreeSet::from([
                    "function public.citext(character)".to_owned()
                ])),
            ),
            (
                "hstore".to_owned(),
                Err(NoProbe("permission denied".to_owned())),
            ),
        ]
        .into();
        mark(Some(&mut a), &mut b, &probed);
        let (members, unchecked) = marked(&b);
        assert_eq!(members, BTreeSet::from(["table public.sneaky".to_owned()]));
        assert_eq!(unchecked, BTreeSet::from(["hstore".to_owned()]));
        assert_eq!(marked(&a).0, members);
        unmark(&mut b);
        assert_eq!(b.catalog, read);
    }

    /// Required extensions come first, each after those it requires, each once.
    #[test]
    fn required_extensions_come_first() {
        let b = model(
            &[
                ("earthdistance", ext("1.1", &["cube"])),
                ("cube", ext("1.5", &["base"])),
                ("base", ext("1", &[])),
            ],
            &[],
        );
        let order: Vec<String> = required("earthdistance", &b)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(order, ["base", "cube"]);
    }
}
