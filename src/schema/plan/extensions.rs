//! Extensions: created, updated or moved early, dropped late.

use super::sql::lit;
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, e) in &b.extensions {
        match a.extensions.get(k) {
            None => x.simple(
                Phase::CreateOrAlterExtensions,
                format!(
                    "CREATE EXTENSION IF NOT EXISTS {k} WITH SCHEMA {} VERSION {}",
                    e.schema,
                    lit(&e.version)
                ),
            ),
            Some(old) if old.version != e.version => x.push(
                Stmt::new(
                    Phase::CreateOrAlterExtensions,
                    format!("ALTER EXTENSION {k} UPDATE TO {}", lit(&e.version)),
                )
                .hazard(
                    HazardKind::Correctness,
                    "the new extension version may not be backwards compatible",
                ),
            ),
            Some(old) if old.schema != e.schema => x.simple(
                Phase::CreateOrAlterExtensions,
                format!("ALTER EXTENSION {k} SET SCHEMA {}", e.schema),
            ),
            _ => {}
        }
    }
    for k in a
        .extensions
        .keys()
        .filter(|k| !b.extensions.contains_key(*k))
    {
        x.push(
            Stmt::new(Phase::DropExtensions, format!("DROP EXTENSION {k}")).hazard(
                HazardKind::DeletesData,
                "objects of the extension are dropped with it",
            ),
        );
    }
}
