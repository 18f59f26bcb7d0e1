//! Schemas: created first, dropped last.

use super::{Cx, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for s in b.schemas.difference(&a.schemas) {
        x.push(
            Stmt::new(Phase::CreateSchemas, format!("CREATE SCHEMA {s}"))
                .opens(format!("SCHEMA {s}")),
        );
    }
    for s in a.schemas.difference(&b.schemas) {
        x.simple(Phase::DropSchemas, format!("DROP SCHEMA {s}"));
    }
}
