//! `schema`: what the migration really changed — the schema engine's diff of the parent
//! (the test Neon database branch before the migration) and the migrated test Neon
//! database branch, with each change's hazards. Policy can deny hazard kinds (by default
//! `deletes_data`) unless every migration of this run is explicitly allowed.

use super::integrity::hazards::{self, NullCounts};
use super::{
    table_of, Check, CheckResult, Evaluation, Finding, Needs, Observations, RecordError, Recording,
    Severity,
};
use crate::config::{Config, SchemaCheck};
use crate::schema::{self, HazardKind, Model, Plan, PlanOptions};

const NAME: &str = "schema";

/// `[checks.schema]`: the diff of the schema before and after the migration.
pub struct SchemaDiff {
    /// NULLs per nullable column before the migration (see `record_before`).
    nulls: Option<NullCounts>,
    /// Relation and column names by OID before the migration (renames, `super::renames`).
    names: Option<super::renames::Names>,
    /// Tables, columns and sequence positions before the migration (`super::rebuilt`).
    snapshot: Option<super::rebuilt::Snapshot>,
}

impl SchemaDiff {
    pub fn new(config: &Config) -> Option<Self> {
        config.checks.schema.enabled.then_some(SchemaDiff {
            nulls: None,
            names: None,
            snapshot: None,
        })
    }
}

#[async_trait::async_trait]
impl Check for SchemaDiff {
    fn name(&self) -> &'static str {
        NAME
    }

    fn needs(&self) -> Needs {
        Needs::SCHEMA
    }

    /// Data-aware hazards need the rows as they were: the schema the migration leads to is
    /// not known yet, so the NULLs of every nullable column are counted now (tables the
    /// `data` check counts exactly, below its `exact-below`), and matched with the plan's
    /// SET NOT NULLs afterwards. Best effort: a count that fails is a detail, never a stop.
    async fn record_before(
        &mut self,
        cx: &Recording<'_>,
        obs: &mut Observations,
    ) -> Result<(), RecordError> {
        self.names = super::renames::read(cx.client).await;
        self.snapshot = super::rebuilt::read(cx.client).await;
        if let Some(before) = &obs.before {
            let max_rows = cx.config().checks.data.exact_below;
            self.nulls = Some(hazards::count_nulls(cx.client, before, max_rows).await);
        }
        Ok(())
    }

    async fn evaluate(&mut self, cx: &Evaluation<'_>) -> Option<CheckResult> {
        let obs = cx.obs;
        let (Some(before), Some(after)) = (&obs.before, cx.after) else {
            // Not introspected after the migration: the stage reported why, as this check.
            return obs.before.is_none().then(|| {
                CheckResult::not_run(
                    NAME,
                    "the schema before the migration was not recorded (no migrate stage in this run)",
                )
            });
        };
        // `allow-migrations` may name a migration as the tool does (file name, tag,
        // revision): the tracking rows it names are allowed too.
        let cfg = &cx.config().checks.schema;
        let mut schema_cfg = cfg.clone();
        let tool = &cx.config().tool;
        for m in &obs.applied {
            if crate::tools::layout::allows(&cfg.allow_migrations, &tool.name, &tool.working_dir, m)
            {
                schema_cfg.allow_migrations.push(m.clone());
            }
        }
        let (exhausted, narrowed) = match cx.client {
            Some(client) => (
                super::seq_limits::exhausted(client, before, after).await,
                super::narrowed::read(client, before, after).await,
            ),
            None => (Vec::new(), Vec::new()),
        };
        let (plan, mut findings, mut details) = evaluate(
            before,
            after,
            obs,
            &schema_cfg,
            (self.nulls.as_ref(), &exhausted, &narrowed),
        );
        if let (Some(names), Some(client)) = (&self.names, cx.client) {
            if let Some(now) = super::renames::read(client).await {
                super::renames::explain(&mut findings, names, &now);
            }
        }
        let roles = super::tool_roles::read(cx.client).await;
        findings.extend(super::tool_roles::findings(before, after, &roles, NAME));
        if let Some(client) = cx.client {
            findings.extend(owner_findings(client).await);
        }
        let mut rebuilt = 0;
        let now = match cx.client {
            Some(client) => super::rebuilt::read(client).await,
            None => None,
        };
        if self.snapshot.is_none() || now.is_none() {
            findings.push(
                Finding::new(NAME, Severity::Warning, "tables rebuilt, columns re-added, enum labels renamed and sequences moved back under unchanged names: NOT CHECKED", "the catalog's OIDs and sequence positions could not be read before or after the migration, so a change that keeps every name was not looked for")
                    .fix("check that the checks' role can read the catalog and the sequences, then run again"),
            );
        }
        if let (Some(snap), Some(client), Some(now)) = (&self.snapshot, cx.client, now) {
            let allowed = every_migration_allowed(obs, &schema_cfg);
            let denied = schema_cfg.deny.contains(&HazardKind::DeletesData) && !allowed;
            let extra = super::rebuilt::findings(client, snap, &now, denied, &findings).await;
            rebuilt = extra.len();
            findings.extend(extra);
        }
        if let Some(n) = &self.nulls {
            details.extend(n.skipped.iter().map(|s| format!("NULLs not counted: {s}")));
        }
        // "Changed nothing" only when the catalog fingerprints agree (the plan is empty).
        let summary = match (plan.statements.len(), plan.unsupported.len()) {
            (0, 0) if rebuilt > 0 => format!("{rebuilt} change(s) under unchanged names (tables rebuilt, columns re-added, labels or attributes swapped, sequences moved back): see below"),
            (0, 0) => "the migration changed nothing in the schema".to_owned(),
            (0, u) => format!("{u} change(s) the schema engine cannot express"),
            (n, 0) => format!("{n} schema change(s)"),
            (n, u) => format!("{n} schema change(s), and {u} the schema engine cannot express"),
        };
        Some(CheckResult::from_findings(NAME, summary, findings, details))
    }
}

fn kind_name(k: HazardKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// How to make a change of this kind without downtime.
fn safe_way(k: HazardKind) -> &'static str {
    match k {
        HazardKind::AccessExclusiveLock => "set a short `lock_timeout` (and retry) so the statement never queues behind a long transaction, and keep the transaction that holds the lock short",
        HazardKind::ShareLock | HazardKind::IndexBuild => "build the index with CREATE INDEX CONCURRENTLY, in a migration that runs without a transaction",
        HazardKind::ShareRowExclusiveLock => "add the constraint NOT VALID, then VALIDATE CONSTRAINT in a separate transaction",
        HazardKind::TableRewrite => "add a new column, backfill it in batches and switch over, instead of rewriting the table in one statement",
        HazardKind::DeletesData => "first deploy code that no longer reads or writes it, keep a copy of the data, then drop it in a later migration",
        HazardKind::IndexDropped => "check that no frequent query relies on the index, and drop it with DROP INDEX CONCURRENTLY",
        HazardKind::AuthzUpdate => "review who gains or loses access, and grant before deploying the code that needs it",
        HazardKind::Correctness => "check the existing rows first: add the constraint NOT VALID, fix the data, then VALIDATE",
        HazardKind::UntrackableDependencies => "search the code and the other functions for callers before changing it",
        HazardKind::Replication => "tell the subscribers' owners first; after a publication's tables change, run ALTER SUBSCRIPTION … REFRESH PUBLICATION on each subscriber",
        HazardKind::BreaksWrites => "keep the table's writes working: give a published table a replica identity (a primary key, or REPLICA IDENTITY USING INDEX / FULL), keep the trigger enabled and firing, write the rule's effect into the application instead, give a function an index or constraint stores a new name (with a new index / constraint over it), keep a sequence counting up without CYCLE",
    }
}

/// A statement of the engine's plan as a description of what the migration changed. The plan
/// spells index builds the online way (`CONCURRENTLY`), but that is how the engine would do it,
/// not how the migration did: the `locks` check reports how it ran.
fn as_changed(sql: &str) -> String {
    sql.replacen("INDEX CONCURRENTLY ", "INDEX ", 1)
}

/// The catalog keeps a partitioned table's own index as `CREATE INDEX … ON ONLY parent`, its
/// partitions' indexes attached to it; the plan builds it in one statement without `ONLY`.
/// Whether the migration did that or built each partition's index CONCURRENTLY and attached
/// it cannot be told from the catalog: the change is shown as the catalog has it.
fn partitioned_index(after: &Model, plan_sql: &str) -> Option<String> {
    let bare = plan_sql.trim_end().trim_end_matches(';');
    after
        .indexes
        .values()
        .filter(|i| i.on_partitioned && i.definition.contains(" ON ONLY "))
        .find(|i| i.definition.replacen(" ON ONLY ", " ON ", 1) == bare)
        .map(|i| {
            let end = &plan_sql[bare.len()..];
            format!("{}{end}", i.definition)
        })
}

const PARTITIONED_INDEX_WHY: &str = "a new index on a partitioned table, with an index on each partition attached to it: built by one CREATE INDEX on the parent, it holds SHARE on every partition for the whole build (writes wait); built the online way (CREATE INDEX … ON ONLY the parent, each partition's index CONCURRENTLY, then ALTER INDEX … ATTACH PARTITION) no write waits — the locks check shows how the migration built it";

const PARTITIONED_INDEX_FIX: &str = "in a migration that runs without a transaction: CREATE INDEX … ON ONLY the parent (it builds nothing), CREATE INDEX CONCURRENTLY on each partition, then ALTER INDEX … ATTACH PARTITION each";

/// The diff as a plan (for reports) and the findings. `exhausted`: sequences the migrated
/// database shows out of values ([`super::seq_limits`]); `narrowed`: narrowing type changes
/// as its data shows them ([`super::narrowed`]).
pub(super) fn evaluate(
    before: &Model,
    after: &Model,
    obs: &Observations,
    cfg: &SchemaCheck,
    (nulls, exhausted, narrowed): (
        Option<&NullCounts>,
        &[(String, String)],
        &[super::narrowed::Narrowed],
    ),
) -> (Plan, Vec<Finding>, Vec<String>) {
    let mut plan = schema::plan(before, after, &PlanOptions::default());
    super::seq_limits::annotate(&mut plan, exhausted);
    super::narrowed::annotate(&mut plan, narrowed);
    if let Some(n) = nulls {
        hazards::annotate_recorded(
            &mut plan,
            before,
            after,
            n,
            "the test Neon database branch before the migration (the parent's copy)",
        );
    }
    let allowed = every_migration_allowed(obs, cfg);
    let mut findings = Vec::new();
    let mut details: Vec<String> = unlisted_beside_allowed(obs, cfg).into_iter().collect();
    for s in &plan.statements {
        let partitioned = partitioned_index(after, &s.sql);
        let sql = partitioned.clone().unwrap_or_else(|| as_changed(&s.sql));
        details.push(sql.trim_end().to_owned());
        let table = table_of(&s.sql);
        for hz in &s.hazards {
            let denied = cfg.deny.contains(&hz.kind);
            let mut severity = if denied && !allowed {
                Severity::Error
            } else {
                Severity::Warning
            };
            let mut what = format!(
                "{}: {}",
                kind_name(hz.kind),
                sql.lines().next().unwrap_or("")
            );
            if hz.kind == HazardKind::TableRewrite {
                if let Some(false) = table.as_deref().and_then(|t| obs.rewritten(t)) {
                    severity = Severity::Info;
                    what.push_str(" — observed on the test Neon database branch: no rewrite");
                }
            }
            // `correctness` stays a warning (a dropped user trigger, a new BEFORE ROW
            // trigger's code): visible in every summary, not denied unless `deny` lists it.
            if matches!(
                hz.kind,
                HazardKind::IndexBuild | HazardKind::UntrackableDependencies
            ) && severity == Severity::Warning
                && !denied
            {
                severity = Severity::Info;
            }
            // The engine's own words on its online form do not describe how the migration
            // built the index (the statement shown is the migration's change, without
            // CONCURRENTLY).
            let why = if partitioned.is_some() {
                PARTITIONED_INDEX_WHY.to_owned()
            } else if hz.kind == HazardKind::IndexBuild && sql != s.sql {
                "a new index on an existing table: building it reads the whole table (CPU and I/O load); built without CONCURRENTLY it also blocks writes while it runs — the locks check shows how the migration built it".to_owned()
            } else {
                hz.message.clone()
            };
            let mut f = Finding::new(NAME, severity, what, why);
            if let Some(t) = &table {
                f = f.at(t.clone());
            }
            let safe = if partitioned.is_some() {
                PARTITIONED_INDEX_FIX
            } else {
                safe_way(hz.kind)
            };
            f = if denied && !allowed {
                f.fix(format!(
                    "{}; if intended, list the migration in `allow-migrations` under [checks.schema] (applied here: {}), or remove `{}` from `deny`",
                    safe,
                    obs.applied.join(", "),
                    kind_name(hz.kind)
                ))
            } else {
                f.fix(safe)
            };
            findings.push(f);
        }
    }
    default_grant_findings(before, after, cfg, allowed, &mut findings);
    for u in &plan.unsupported {
        findings.push(unmodeled_finding(u, allowed, &obs.applied));
    }
    role_findings(before, after, &mut plan, &mut findings, &mut details);
    (plan, findings, details)
}

/// Objects another role than the applying one owned on main, which the migration dropped and
/// created again on the local test copy: on main the new object is the applying role's, on the
/// copy every object is the copy's role's, so no owner change shows (deployfid: `deploy`
/// failed after the apply). The provider recorded main's owners when it made the copy.
async fn owner_findings(client: &tokio_postgres::Client) -> Vec<Finding> {
    use crate::providers::local::fidelity;
    let Some(record) = fidelity::record(client).await else {
        return Vec::new();
    };
    let applier = &record.applier;
    match fidelity::recreated(client, &record).await {
        Ok(list) => list
            .into_iter()
            .map(|(what, owner)| {
                Finding::new(
                    NAME,
                    Severity::Error,
                    format!("{}: the owner of {what} changes on main from {owner} to {applier}", kind_name(HazardKind::AuthzUpdate)),
                    format!("the migration drops it and creates it again: on main the new one is owned by the role that applies, `{applier}`, and {owner} loses it (ALTER, DROP, what it granted); on the test copy every object is owned by the copy's role, so the copy shows no change"),
                )
                .fix(format!("change it in place instead of dropping it, or give it back with `ALTER … OWNER TO {owner}` in the migration (on the local test copy that needs `tool-role = \"server\"` under [provider])"))
            })
            .collect(),
        Err(e) => vec![Finding::new(
            NAME,
            Severity::Warning,
            "owners on main of objects the migration created again: NOT CHECKED",
            format!("the test copy's objects could not be listed: {e}"),
        )],
    }
}

/// An object the migration created that gets privileges from the default privileges of the
/// role that created it (`ALTER DEFAULT PRIVILEGES … GRANT SELECT ON TABLES TO app_ro`): no
/// GRANT is planned or written for it, yet a role can read or change something it could not
/// before — `authz_update`, as a GRANT would be (attack11 A9).
fn default_grant_findings(
    before: &Model,
    after: &Model,
    cfg: &SchemaCheck,
    allowed: bool,
    findings: &mut Vec<Finding>,
) {
    for (key, role, privileges) in schema::plan::default_grants(before, after) {
        let denied = cfg.deny.contains(&HazardKind::AuthzUpdate) && !allowed;
        let what = format!(
            "{}: GRANT {} ON {key} TO {role} (from the default privileges of the role that creates it)",
            kind_name(HazardKind::AuthzUpdate),
            privileges.join(", ")
        );
        let why = format!(
            "{role} gains {} on a new object: `ALTER DEFAULT PRIVILEGES` gives it to what this role creates, on production too, with no GRANT in the migration",
            privileges.join(", ")
        );
        let severity = if denied {
            Severity::Error
        } else {
            Severity::Warning
        };
        findings.push(
            Finding::new(NAME, severity, what, why)
                .fix("if the role must not have it, REVOKE it in the migration; if intended, list the migration in `allow-migrations` under [checks.schema]"),
        );
    }
}

/// A change the schema engine cannot express: one it sees but cannot plan (an inheritance
/// changed), or one only the catalog fingerprint saw (such as `ALTER DATABASE … SET`). Either
/// fails the check, as nothing else reviewed it, unless every migration of the run is listed in
/// `allow-migrations`: then it is still shown, as a warning.
fn unmodeled_finding(u: &str, allowed: bool, applied: &[String]) -> Finding {
    if schema::catalog::is_not_checked(u) && !schema::catalog::is_net_entry(u) {
        // Such as a user mapping's options the comparing role cannot read: no evidence.
        return Finding::new(
            NAME,
            Severity::Error,
            u.to_owned(),
            "NOT CHECKED: the schema engine could not read what it must compare, so nothing shows this part of the schema is unchanged",
        )
        .fix("compare as a role that can read it (see the message); `allow-migrations` does not accept what was not checked");
    }
    let why = if schema::catalog::is_net_entry(u) {
        "the catalog changed where the schema engine models nothing: no check covers this change"
    } else {
        // attack10 F3: `NO INHERIT` was a warning and the run passed.
        "the schema engine sees this change but cannot express it: no check covers what it does"
    };
    // What could not be checked was not reviewed by anyone: `allow-migrations` accepts the
    // changes a migration made, never the absence of a check (a probe that could not run).
    if allowed && !schema::catalog::is_not_checked(u) {
        return Finding::new(
            NAME,
            Severity::Warning,
            u.to_owned(),
            format!("{why}; accepted: the run applied a migration listed in `allow-migrations`"),
        )
        .fix("review this change by hand");
    }
    Finding::new(NAME, Severity::Error, u.to_owned(), why).fix(format!(
        "review this change by hand; if intended, list the migration in `allow-migrations` under [checks.schema] (applied here: {})",
        applied.join(", ")
    ))
}

/// Roles the migration created, dropped or changed (attributes, memberships), and
/// cluster-wide privileges and owners it changed (other databases', tablespaces',
/// parameters': [`schema::cluster_grants`]): the schema
/// engine never plans them, so they count as changes it cannot express and fail the check.
/// A new role with no more than LOGIN, or a dropped role, gives nobody anything new: a
/// detail only (on a shared local server another run may have made or dropped it).
fn role_findings(
    before: &Model,
    after: &Model,
    plan: &mut Plan,
    findings: &mut Vec<Finding>,
    details: &mut Vec<String>,
) {
    const ROLES_WHY: &str = "roles are not part of the schema the engine models: a new power, membership or role changes who can do what, and no other check covers it";
    const CLUSTER_WHY: &str = "privileges and owners of other databases, tablespaces and parameters are cluster-wide, not part of the schema the engine models: apply makes the same change on production, and no other check covers it";
    let roles = schema::roles::changes(before, after)
        .into_iter()
        .map(|c| (c, ROLES_WHY));
    let cluster = schema::cluster_grants::changes(before, after)
        .into_iter()
        .map(|c| (c, CLUSTER_WHY));
    const SYSTEM_WHY: &str = "ALTER SYSTEM reconfigures the whole server every database on it uses, not part of the schema the engine models: apply makes the same change on production, and no other check covers it";
    let system = schema::system_settings::changes(before, after)
        .into_iter()
        .map(|c| (c, SYSTEM_WHY));
    for (c, why) in roles.chain(cluster).chain(system) {
        if !c.serious {
            details.push(c.message);
            continue;
        }
        findings.push(
            Finding::new(NAME, Severity::Error, c.message.clone(), why)
            .fix("manage roles, cluster-wide grants and server settings outside migrations (the Neon console or API, or infrastructure code), or review this change by hand"),
        );
        plan.unsupported.push(c.message);
    }
}

/// Whether `allow-migrations` excuses this run's denied hazards: only when it lists every
/// migration the run applied. One listed migration replayed beside an unlisted one (a first
/// deploy, two migrations in one push) must not excuse what the unlisted one does: the hazards
/// are not told apart by migration.
fn every_migration_allowed(obs: &Observations, cfg: &SchemaCheck) -> bool {
    !obs.applied.is_empty() && obs.applied.iter().all(|m| cfg.allow_migrations.contains(m))
}

/// The detail line that says why `allow-migrations` excused nothing, when it lists some of the
/// run's migrations but not all.
fn unlisted_beside_allowed(obs: &Observations, cfg: &SchemaCheck) -> Option<String> {
    let (listed, unlisted): (Vec<&String>, Vec<&String>) = obs
        .applied
        .iter()
        .partition(|m| cfg.allow_migrations.contains(m));
    (!listed.is_empty() && !unlisted.is_empty()).then(|| {
        let names = |v: Vec<&String>| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        format!(
            "allow-migrations excuses nothing in this run: it lists {} but not {}, which this run applied too (list every migration of the run, or push them apart)",
            names(listed),
            names(unlisted)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `allow-migrations` turned every net-only finding into a warning, NOT CHECKED ones too:
    /// an extension whose members no probe checked passed the check.
    #[test]
    fn allow_migrations_never_accepts_what_was_not_checked() {
        let applied = ["0001_x.sql".to_owned()];
        let unchecked = format!(
            "{}: the members of extension citext were NOT checked against its script (no probe: x)",
            schema::catalog::NOT_MODELED
        );
        let mapping = "user mapping FOR PUBLIC SERVER s: its options are NOT CHECKED — …";
        for u in [unchecked.as_str(), mapping] {
            for allowed in [false, true] {
                let f = unmodeled_finding(u, allowed, &applied);
                assert_eq!(f.severity, Severity::Error, "{u} (allowed: {allowed})");
            }
        }
        // What the migration really made (a database setting) is still accepted.
        let set = format!("{}: database settings differ", schema::catalog::NOT_MODELED);
        assert_eq!(
            unmodeled_finding(&set, true, &applied).severity,
            Severity::Warning
        );
        assert_eq!(
            unmodeled_finding(&set, false, &applied).severity,
            Severity::Error
        );
    }
}
