//! What the reaper may drop: only databases provably created by neon-migrate, judged on
//! what a migration cannot forge (names, owners, role membership and role comments).

use tokio_postgres::Client;

use super::{local_db_name, role, LocalProvider, Meta};
use crate::pg;
use crate::providers::ProviderError;

impl LocalProvider {
    /// Every database of the server with its metadata when it is provably ours (see
    /// [`provably_ours`]).
    pub(super) async fn seen(
        &self,
        client: &Client,
    ) -> Result<Vec<(Seen, Option<Meta>)>, ProviderError> {
        let rows = client
            .query(SEEN, &[&role::GROUP])
            .await
            .map_err(|e| pg::PgError::new("cannot list the server's databases", e))?;
        let server_role: String = client
            .query_one("SELECT current_user::text", &[])
            .await
            .map_err(|e| pg::PgError::new("cannot read the server's role", e))?
            .get(0);
        let all: Vec<Seen> = rows
            .iter()
            .map(|r| Seen {
                datname: r.get(0),
                comment: r.get(1),
                owner: r.get(2),
                owner_in_group: r.get(3),
                owner_comment: r.get(4),
            })
            .collect();
        let protected = protected(&all, &self.main);
        Ok(all
            .into_iter()
            .map(|d| {
                let meta = provably_ours(&d, &protected, &server_role);
                (d, meta)
            })
            .collect())
    }
}

/// A database as the reaper sees it: what a migration cannot forge — its name, its owner,
/// the owner's membership in [`role::GROUP`] and the owner role's comment (a copy's own role
/// has no CREATEROLE, so it cannot change them) — and what it can: the database comment (a
/// copy's owner may rewrite its own; a migration applied to main as the server's role may
/// write main's).
pub(super) struct Seen {
    pub(super) datname: String,
    comment: Option<String>,
    owner: String,
    owner_in_group: bool,
    owner_comment: Option<String>,
}

/// Every database of the server, as [`Seen`] (`$1`: [`role::GROUP`]).
const SEEN: &str =
    "SELECT d.datname::text, shobj_description(d.oid, 'pg_database'), r.rolname::text, \
    EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid \
        WHERE m.member = r.oid AND g.rolname = $1), \
    shobj_description(r.oid, 'pg_authid') \
    FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba ORDER BY d.datname";

pub(super) fn parse_meta(comment: &Option<String>) -> Option<Meta> {
    comment
        .as_deref()
        .and_then(|c| serde_json::from_str::<Meta>(c).ok())
}

/// Databases never to drop: `main`, and the parent of every test Neon database branch,
/// restore point or kept state on the server as recorded where a copy's migration cannot
/// write (the main databases of this project and of the others sharing the server).
fn protected(all: &[Seen], main: &str) -> std::collections::HashSet<String> {
    let mut set = std::collections::HashSet::from([main.to_owned()]);
    for d in all {
        let copy_role = d.owner == role::login_role(&d.datname) && d.owner_in_group;
        if let Some(m) = parse_meta(&d.owner_comment) {
            set.insert(m.parent);
        }
        if !copy_role {
            if let Some(m) = parse_meta(&d.comment) {
                set.insert(m.parent);
            }
        }
    }
    set
}

/// The metadata of `d` when it is provably a database neon-migrate created, `None` for
/// anything else — above all the main database of any project, whatever its comment says:
/// - a test copy handed to its own role: owned by [`role::login_role`] of its name, a member
///   of [`role::GROUP`]; its metadata is the role's comment (the database's, for copies of
///   older versions);
/// - a restore point (`restore/…`) or a state kept by `rollback` (`…-before-rollback-…`);
/// - a test copy made with `tool-role = "server"`: owned by the server's role `server_role`;
///
/// In every case it must be named after its metadata's name.
fn provably_ours(
    d: &Seen,
    protected: &std::collections::HashSet<String>,
    server_role: &str,
) -> Option<Meta> {
    if protected.contains(&d.datname) {
        return None;
    }
    let named = |m: &Meta| local_db_name(&m.name) == d.datname;
    if d.owner == role::login_role(&d.datname) && d.owner_in_group {
        return parse_meta(&d.owner_comment)
            .or_else(|| parse_meta(&d.comment))
            .filter(named);
    }
    let meta = parse_meta(&d.comment).filter(named)?;
    let restore_point = meta.name.starts_with(crate::providers::RESTORE_PREFIX);
    let kept = meta.pipeline == "rollback" && meta.name.contains("-before-rollback-");
    let server_copy = d.owner == server_role && !d.owner.starts_with("neon_migrate_copy_");
    (restore_point || kept || server_copy).then_some(meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn meta(name: &str, parent: &str, pipeline: &str) -> String {
        serde_json::to_string(&Meta {
            neon_migrate: 1,
            name: name.into(),
            parent: parent.into(),
            created_at: Utc::now(),
            expires_at: Utc::now(),
            git_branch: String::new(),
            git_sha: String::new(),
            pipeline: pipeline.into(),
            run: String::new(),
        })
        .unwrap()
    }

    fn seen(db: &str, comment: Option<String>, owner: &str, role_comment: Option<String>) -> Seen {
        Seen {
            datname: db.into(),
            comment,
            owner: owner.into(),
            owner_in_group: owner.starts_with("neon_migrate_copy_"),
            owner_comment: role_comment,
        }
    }

    fn verdicts(all: &[Seen]) -> Vec<bool> {
        let p = protected(all, "main");
        all.iter()
            .map(|d| provably_ours(d, &p, "postgres").is_some())
            .collect()
    }

    #[test]
    fn a_forged_comment_never_makes_a_main_database_reapable() {
        let copy = "migrate/x";
        let all = [
            // main, its comment forged by a migration applied as the server's role
            seen(
                "main",
                Some(meta("main", "main", "deploy")),
                "postgres",
                None,
            ),
            // another project's main, named as the parent of its copy's role record
            seen(
                "other",
                Some(meta("other", "main", "deploy")),
                "postgres",
                None,
            ),
            seen(
                "migrate/y",
                Some(meta("migrate/y", "other", "pre-push")),
                &role::login_role("migrate/y"),
                Some(meta("migrate/y", "other", "pre-push")),
            ),
            // a copy whose migration rewrote its comment: its role's record decides
            seen(
                copy,
                Some(meta("elsewhere", "someone_else", "x")),
                &role::login_role(copy),
                Some(meta(copy, "main", "pre-push")),
            ),
            // restore point and kept state: named as neon-migrate names them
            seen(
                "restore/main-1",
                Some(meta("restore/main-1", "main", "restore-point")),
                "postgres",
                None,
            ),
            seen(
                "main-before-rollback-1",
                Some(meta("main-before-rollback-1", "main", "rollback")),
                "app",
                None,
            ),
            // a database of someone else with a comment copied from a copy
            seen("app", Some(meta("app", "main", "pre-push")), "app", None),
            // a database named unlike its metadata
            seen(
                "misnamed",
                Some(meta("migrate/z", "main", "pre-push")),
                "postgres",
                None,
            ),
        ];
        assert_eq!(
            verdicts(&all),
            [false, false, true, true, true, true, false, false]
        );
    }
}
