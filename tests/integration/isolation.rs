//! Isolation of the test Neon database branch on the `local` provider: a migration on a git
//! branch runs with a role that owns its copy and nothing else, so it cannot drop, rename or
//! reconfigure the main database, reconfigure the server, end other sessions, or connect to
//! any other database — and `tool-role = "server"` is the documented way out.

use neon_migrate::exit;
use neon_migrate::pg;
use neon_migrate::providers::local::role;
use neon_migrate::secret::Secret;

use crate::support::{cluster, Output, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        isolation_a_migration_on_the_test_copy_cannot_drop_alter_or_reach_main,
        isolation_the_tool_role_owns_only_its_copy_and_connects_nowhere_else,
        isolation_tool_role_server_is_the_documented_opt_out,
        isolation_the_copys_role_owns_every_kind_of_object_the_migration_may_alter,
        isolation_each_repository_gets_its_own_default_main_database_shared_by_its_worktrees,
        isolation_emulator_a_migration_on_a_test_neon_database_branch_cannot_drop_or_alter_main,
    ]
}

const NO_TX: &str = "-- neon-migrate: no-transaction\n";

/// What the main database and the server look like, for a before/after comparison.
fn fingerprint(p: &Project) -> Vec<Vec<Option<String>>> {
    let main = pg::literal(p.main_db());
    p.main_sql(&format!(
        "SELECT (SELECT count(*) FROM customers)::text, \
                (SELECT datallowconn::text || datistemplate::text FROM pg_database WHERE datname = {main}), \
                (SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase \
                  WHERE d.datname = {main})::text, \
                (SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf')::text"
    ))
}

fn seeded(tag: &str) -> Project {
    let p = Project::new(tag);
    p.main_sql(
        "create table customers (id bigint primary key); \
         insert into customers select generate_series(1, 100)",
    );
    p.config("").commit()
}

/// Runs `pre-push` with `migration` as the only new migration, on a git branch of its own.
fn attempt(p: &Project, n: usize, migration: &str) -> Output {
    let tag = p.main_db().to_owned();
    p.git(&["checkout", "-q", "-B", &format!("isolation/{tag}-{n}")]);
    let _ = std::fs::remove_dir_all(p.path().join("migrations"));
    let dir = p.path().join("migrations");
    std::fs::create_dir_all(&dir).expect("migrations folder");
    std::fs::write(dir.join(format!("000{n}_attempt.sql")), migration).expect("write migration");
    p.git(&["add", "-A"]);
    p.git(&["commit", "-q", "--allow-empty", "-m", "attempt"]);
    p.run(&["run", "pre-push"])
}

fn isolation_a_migration_on_the_test_copy_cannot_drop_alter_or_reach_main() {
    let p = seeded("iso_main");
    // A session of someone else (the superuser, on another database) to try to end.
    let other = p.block_on(async {
        let c = pg::connect(&Secret::new(cluster().url("postgres")))
            .await
            .expect("connect");
        let pid: i32 = c
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .expect("pid")
            .get(0);
        (c, pid)
    });
    let before = fingerprint(&p);
    let main = pg::ident(p.main_db());
    let attempts = [
        format!("{NO_TX}DROP DATABASE {main} WITH (FORCE);\n"),
        format!("ALTER DATABASE {main} RENAME TO stolen_main;\n"),
        format!("ALTER DATABASE {main} SET default_transaction_read_only = on;\n"),
        format!("ALTER DATABASE {main} ALLOW_CONNECTIONS false;\n"),
        format!("{NO_TX}ALTER SYSTEM SET max_connections = 3;\n"),
        format!("SELECT pg_terminate_backend({});\n", other.1),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE usename <> current_user;\n"
            .to_owned(),
        format!("SELECT pg_cancel_backend({});\n", other.1),
        format!("{NO_TX}CREATE DATABASE iso_escape;\n"),
        "CREATE ROLE iso_escape SUPERUSER;\n".to_owned(),
    ];
    for (n, sql) in attempts.iter().enumerate() {
        let out = attempt(&p, n + 1, sql);
        let context = format!("migration:\n{sql}\n{out}");
        assert_eq!(out.code, exit::MIGRATION_FAILED, "{context}");
        assert!(
            out.stdout.contains("(SQLSTATE 42501)"),
            "the server refused it for want of privilege (insufficient_privilege)\n{context}"
        );
        assert_eq!(
            fingerprint(&p),
            before,
            "main or the server changed\n{context}"
        );
        p.assert_no_test_db_branches();
    }
    // The other session is still there.
    p.block_on(async {
        other
            .0
            .query_one("SELECT 1", &[])
            .await
            .expect("the other session survived");
    });
    assert!(
        p.main_has("public.customers"),
        "main is still there, under its own name"
    );
}

fn psql_tool(p: Project, args: &str) -> Project {
    let psql = cluster().bin.join("psql");
    p.config(&format!(
        "[tool]\nname = \"probe\"\ncommand = '''\"{}\" -X -v ON_ERROR_STOP=1 {args}'''\n",
        psql.display()
    ))
    .commit()
}

fn isolation_the_tool_role_owns_only_its_copy_and_connects_nowhere_else() {
    let p = seeded("iso_connect");
    p.git(&["checkout", "-q", "-b", "isolation/connect"]);
    // Its own database: a role of its own, no superuser, owner of the copy and its tables.
    let mut p = psql_tool(
        p,
        "-Atc \"select current_user, r.rolsuper, r.rolcreatedb, r.rolcreaterole, \
         pg_get_userbyid(d.datdba) = current_user, pg_get_userbyid(c.relowner) = current_user \
         from pg_roles r, pg_database d, pg_class c where r.rolname = current_user \
         and d.datname = current_database() and c.oid = 'customers'::regclass\"; exit 3",
    );
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("neon_migrate_copy_"))
        .unwrap_or_else(|| panic!("the tool's own role is printed\n{out}"));
    assert!(line.ends_with("|f|f|f|t|t"), "{line}\n{out}");
    // Any other database: refused at the door.
    let main = p.main_db().to_owned();
    for db in [main.as_str(), "postgres", "template1"] {
        p = psql_tool(p, &format!("-d {db} -c 'select 1'"));
        let out = p.run(&["run", "pre-push"]);
        out.code(exit::MIGRATION_FAILED);
        assert!(
            out.stdout.contains("pg_hba.conf rejects connection"),
            "connecting to {db} was refused\n{out}"
        );
        p.assert_no_test_db_branches();
    }
    // The deleted copy's roles went with it.
    let db = "migrate/isolation/connect";
    let left = p.main_sql(&format!(
        "SELECT rolname FROM pg_roles WHERE rolname IN ({}, {})",
        pg::literal(db),
        pg::literal(&role::login_role(db))
    ));
    assert!(left.is_empty(), "roles left: {left:?}");
}

fn isolation_tool_role_server_is_the_documented_opt_out() {
    let p = seeded("iso_opt_out");
    let main = pg::ident(p.main_db());
    let config = "[provider]\ntool-role = \"server\"\n";
    let p = p.config(config).commit();
    let out = attempt(
        &p,
        1,
        &format!("ALTER DATABASE {main} SET application_name = 'reached main';\n"),
    );
    out.code(exit::OK);
    let set = p.main_sql(&format!(
        "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase \
         WHERE d.datname = {}",
        pg::literal(p.main_db())
    ));
    assert_eq!(
        set[0][0].as_deref(),
        Some("1"),
        "with the server's role the migration reaches main\n{out}"
    );
    p.main_sql(&format!("ALTER DATABASE {main} RESET ALL"));
}

/// The main database a `pre-push` run of `p` (no `main-database` configured) copied from.
fn default_main_of(p: &Project, dir: &std::path::Path) -> String {
    let mut c = p.command(&["run", "pre-push", "--json"]);
    c.current_dir(dir);
    let out = crate::support::run_command(c, &["run", "pre-push", "--json"]);
    out.code(exit::OK);
    out.json()["neon_database_branch"]["parent"]
        .as_str()
        .unwrap_or_else(|| panic!("no parent in the report\n{out}"))
        .to_owned()
}

fn isolation_each_repository_gets_its_own_default_main_database_shared_by_its_worktrees() {
    const TABLE: &str = "create table things (id bigint primary key);\n";
    let a = Project::new("iso_default_a")
        .config_raw("")
        .migration("0001_things.sql", TABLE)
        .commit()
        .git_branch("isolation/default-a");
    let b = Project::new("iso_default_b")
        .config_raw("")
        .migration("0001_things.sql", TABLE)
        .commit()
        .git_branch("isolation/default-b");
    let main_a = default_main_of(&a, a.path());
    let main_b = default_main_of(&b, b.path());
    let drop_all = |names: &[&str]| {
        for n in names {
            a.block_on(crate::support::query(
                "postgres",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg::ident(n)),
            ))
            .expect("drop a default main database");
        }
    };
    let folder = |p: &Project| {
        p.path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_lowercase()
            .replace('-', "_")
    };
    let checks = || {
        assert_ne!(main_a, "main");
        assert!(main_a.len() <= 63, "{main_a}");
        assert!(
            main_a.starts_with(&format!("main_{}_", folder(&a))),
            "{main_a}"
        );
        assert!(
            main_b.starts_with(&format!("main_{}_", folder(&b))),
            "{main_b}"
        );
        assert_ne!(main_a, main_b, "two repositories share a main database");
        // A worktree of repository A (where the pre-push hook runs for a pushed commit that
        // is not checked out) is still repository A.
        let wt = tempfile::tempdir().expect("temp dir");
        let wt_path = wt.path().join("worktree");
        a.git(&[
            "worktree",
            "add",
            "-q",
            "-b",
            "isolation/default-wt",
            wt_path.to_str().expect("utf-8 path"),
        ]);
        assert_eq!(default_main_of(&a, &wt_path), main_a);
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(checks));
    drop_all(&[&main_a, &main_b]);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// The Neon API emulator backs every Neon database branch with a database of the same server:
/// each is owned by a role of its own, as each Neon database branch is its own Postgres on Neon.
fn isolation_emulator_a_migration_on_a_test_neon_database_branch_cannot_drop_or_alter_main() {
    let tag = "iso_emulator";
    let p = Project::new(tag);
    let neon = crate::reliability::NeonEmu::start(tag, p.main_db());
    neon.main_sql(
        "create table customers (id bigint primary key); insert into customers values (1)",
    );
    let main = pg::ident(p.main_db());
    let p = p.config_raw(&neon.toml("")).commit();
    for (n, sql) in [
        format!("{NO_TX}DROP DATABASE {main} WITH (FORCE);\n"),
        format!("ALTER DATABASE {main} RENAME TO stolen_main;\n"),
        format!("ALTER DATABASE {main} SET default_transaction_read_only = on;\n"),
    ]
    .iter()
    .enumerate()
    {
        p.git(&["checkout", "-q", "-B", &format!("isolation/emulator-{n}")]);
        let _ = std::fs::remove_dir_all(p.path().join("migrations"));
        std::fs::create_dir_all(p.path().join("migrations")).expect("migrations folder");
        std::fs::write(p.path().join(format!("migrations/000{n}_attempt.sql")), sql)
            .expect("write migration");
        p.git(&["add", "-A"]);
        p.git(&["commit", "-q", "--allow-empty", "-m", "attempt"]);
        let out = neon.run(&p, &["run", "pre-push"]);
        let context = format!("migration:\n{sql}\n{out}");
        assert_eq!(out.code, exit::MIGRATION_FAILED, "{context}");
        assert!(out.stdout.contains("(SQLSTATE 42501)"), "{context}");
        let rows = neon.main_sql(&format!(
            "SELECT (SELECT count(*) FROM customers)::text, \
             (SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase \
              WHERE d.datname = {})::text",
            pg::literal(p.main_db())
        ));
        assert_eq!(
            rows,
            vec![vec![Some("1".to_owned()), Some("0".to_owned())]],
            "{context}"
        );
    }
}

fn isolation_the_copys_role_owns_every_kind_of_object_the_migration_may_alter() {
    let p = Project::new("iso_objects");
    p.main_sql(
        "create schema app; \
         create type app.mood as enum ('ok', 'sad'); \
         create domain app.positive as integer check (value > 0); \
         create type app.pair as (a int, b int); \
         create type app.span as range (subtype = int4); \
         create table app.items (id serial primary key, n app.positive, m app.mood); \
         create sequence app.free_seq; \
         create table app.parts (id int, at date) partition by range (at); \
         create table app.parts_2026 partition of app.parts for values from ('2026-01-01') to ('2027-01-01'); \
         create view app.v as select id from app.items; \
         create materialized view app.mv as select id from app.items; \
         create function app.f(x int) returns int language sql as 'select x + 1'; \
         create procedure app.p() language sql as 'select 1'; \
         create aggregate app.total(int) (sfunc = int4pl, stype = int); \
         create statistics app.st on id, n from app.items; \
         create text search configuration app.cfg (copy = simple); \
         create collation app.coll (locale = 'C');",
    );
    p.git(&["checkout", "-q", "-b", "isolation/objects"]);
    // Every object of schema `app` must be owned by the tool's role: the migration alters them.
    let p = psql_tool(
        p,
        "-Atc \"select string_agg(what, ', ') from ( \
           select 'schema' as what from pg_namespace where nspname = 'app' and nspowner <> current_user::regrole \
           union all select 'relation ' || relname from pg_class where relnamespace = 'app'::regnamespace and relowner <> current_user::regrole \
           union all select 'routine ' || proname from pg_proc where pronamespace = 'app'::regnamespace and proowner <> current_user::regrole \
           union all select 'type ' || typname from pg_type where typnamespace = 'app'::regnamespace and typowner <> current_user::regrole \
           union all select 'statistics ' || stxname from pg_statistic_ext where stxnamespace = 'app'::regnamespace and stxowner <> current_user::regrole \
           union all select 'ts config ' || cfgname from pg_ts_config where cfgnamespace = 'app'::regnamespace and cfgowner <> current_user::regrole \
           union all select 'collation ' || collname from pg_collation where collnamespace = 'app'::regnamespace and collowner <> current_user::regrole \
         ) x\" | sed 's/^/not ours: /'; exit 3",
    );
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED);
    let line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("│ not ours:"))
        .unwrap_or_else(|| panic!("the probe ran\n{out}"));
    assert!(line.trim_end().ends_with("not ours:"), "{line}\n{out}");
    // And a migration can change them.
    let p = p
        .file("neon-migrate.toml", "")
        .config("")
        .migration(
            "0001_alter.sql",
            "alter table app.items add column note text; \
             alter type app.mood add value 'glad'; \
             alter domain app.positive set default 1; \
             create or replace function app.f(x int) returns int language sql as 'select x + 2'; \
             alter sequence app.free_seq restart with 5; \
             drop materialized view app.mv; \
             drop aggregate app.total(int); \
             alter table app.parts add column extra int; \
             alter table app.parts_2026 alter column extra set default 0;\n",
        )
        .commit();
    // (The lint check rightly objects to some of it: the migrate stage is what is proven.)
    let out = p.run(&["run", "pre-push"]);
    assert!(
        out.stage_line("migrate").trim_start().starts_with('✓'),
        "the migration altered them\n{out}"
    );
}
