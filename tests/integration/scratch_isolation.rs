//! A `.sql` schema file (`diff --to file.sql`, `generate --schema file.sql`) is repository
//! content that runs as SQL on a server other projects share: it is loaded into its scratch
//! database by a role that owns that database and nothing else. It cannot run a program, read
//! a server file or another database's data, or connect to another database; what an ordinary
//! schema needs — trusted extensions, GRANTs to existing roles — still loads; and
//! `tool-role = "server"` is the documented way out.

use std::os::unix::fs::PermissionsExt;

use neon_migrate::config::{BusyParent, LocalConfig, ToolRole};
use neon_migrate::exit;
use neon_migrate::pg;
use neon_migrate::providers::local::{role, LocalProvider};
use neon_migrate::secret::{Redactor, Secret};

use crate::support::{cluster, query, Output, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        isolation_a_sql_file_cannot_run_a_program_read_server_files_or_another_database,
        isolation_the_scratch_role_is_unprivileged_and_connects_nowhere_else,
        isolation_a_sql_file_with_trusted_extensions_and_grants_still_loads,
        isolation_databases_neon_migrate_creates_grant_connect_to_no_other_role,
    ]
}

const REFUSED: &str = "a .sql schema is loaded by a role that owns its scratch database and nothing else";

fn seeded(tag: &str) -> Project {
    let p = Project::new(tag);
    p.main_sql(
        "create table customers (id bigint primary key, secret text); \
         insert into customers values (1, 'only-in-main')",
    );
    p.config("").commit()
}

/// `diff --from main --to <file>` of a file holding `sql`.
fn diff_to(p: &Project, file: &str, sql: &str) -> Output {
    std::fs::write(p.path().join(file), sql).expect("write the schema file");
    p.run(&["diff", "--from", "main", "--to", file])
}

fn isolation_a_sql_file_cannot_run_a_program_read_server_files_or_another_database() {
    let p = seeded("iso_scratch_escape");
    // A folder the server's OS user may write to (it may not be ours): the marker would land
    // here if the program ran.
    let out_dir = tempfile::Builder::new()
        .prefix("nm-it-scratch-marker-")
        .tempdir()
        .expect("temp dir");
    std::fs::set_permissions(out_dir.path(), std::fs::Permissions::from_mode(0o777))
        .expect("chmod");
    let marker = out_dir.path().join("marker");
    // Where main's table lives in the data folder (a superuser could read it as a file).
    let path = p.main_sql("SELECT pg_relation_filepath('customers')")[0][0]
        .clone()
        .expect("the table's file");
    let attempts = [
        (
            "program.sql",
            format!(
                "create table t (id int);\nCOPY (SELECT 1) TO PROGRAM {};\n",
                pg::literal(&format!("touch {}", marker.display()))
            ),
            "external program",
        ),
        (
            "file.sql",
            "create table leak as select pg_read_file('/etc/hostname') as t;\n".to_owned(),
            "pg_read_file",
        ),
        (
            "main_data.sql",
            format!(
                "create table stolen as select pg_read_binary_file({}) as data;\n",
                pg::literal(&path)
            ),
            "pg_read_binary_file",
        ),
        (
            "dblink.sql",
            "create extension dblink;\n".to_owned(),
            "extension `dblink` is not a trusted extension",
        ),
    ];
    for (file, sql, needle) in &attempts {
        let out = diff_to(&p, file, sql);
        let context = format!("{file}:\n{sql}\n{out}");
        assert_eq!(out.code, exit::PROVIDER, "{context}");
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(text.contains(&format!("{file} does not load")), "{context}");
        assert!(text.contains("(SQLSTATE 42501)"), "{context}");
        assert!(text.contains(REFUSED), "the error says why\n{context}");
        assert!(text.contains(needle), "the error names {needle}\n{context}");
        assert!(
            text.contains("tool-role = \"server\""),
            "the error names the way out\n{context}"
        );
        assert!(!marker.exists(), "the program ran\n{context}");
    }
    // The scratch databases and their roles go with each failed load: see the next test.
}

fn isolation_the_scratch_role_is_unprivileged_and_connects_nowhere_else() {
    let p = seeded("iso_scratch_role");
    let cfg = LocalConfig {
        url: None,
        main_database: Some(p.main_db().to_owned()),
        data_dir: Some(cluster().dir.clone()),
        busy_parent: BusyParent::Fail,
        tool_role: ToolRole::CopyOwner,
    };
    let db = format!("neon_migrate_scratch_it_{}", std::process::id());
    p.block_on(async {
        let provider = LocalProvider::open(&cfg, None, &Redactor::new())
            .await
            .expect("open the provider");
        let url = provider.create_scratch(&db).await.expect("scratch");
        let c = pg::connect(&url).await.expect("its own database");
        let row = c
            .query_one(
                "SELECT current_user::text, r.rolsuper, r.rolcreatedb, r.rolcreaterole, \
                 r.rolbypassrls, pg_get_userbyid(d.datdba) = current_user, \
                 (SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid \
                  WHERE m.member = r.oid AND g.rolname LIKE 'pg\\_%')::int \
                 FROM pg_roles r, pg_database d WHERE r.rolname = current_user \
                 AND d.datname = current_database()",
                &[],
            )
            .await
            .expect("who am I");
        let user: String = row.get(0);
        assert_eq!(user, role::login_role(&db));
        let attrs: (bool, bool, bool, bool, bool, i32) = (
            row.get(1),
            row.get(2),
            row.get(3),
            row.get(4),
            row.get(5),
            row.get(6),
        );
        assert_eq!(
            attrs,
            (false, false, false, false, true, 0),
            "not a superuser, no CREATEDB/CREATEROLE/BYPASSRLS, owns its database, no pg_* role"
        );
        drop(c);
        // The same credentials on any other database: refused.
        for other in [p.main_db(), "postgres", "template1"] {
            let elsewhere = Secret::new(pg::with_database(url.expose(), other));
            match pg::connect(&elsewhere).await {
                Ok(_) => panic!("the scratch role connected to {other}"),
                Err(e) => assert!(
                    e.to_string().contains("pg_hba.conf rejects connection"),
                    "{other}: {e}"
                ),
            }
        }
        // Nobody but its owner and superusers may connect to it (CONNECT is not PUBLIC's).
        let acl = query(
            "postgres",
            &format!(
                "SELECT has_database_privilege('{}', {}, 'CONNECT')::text, \
                 EXISTS (SELECT 1 FROM pg_database d, aclexplode(d.datacl) a \
                  WHERE d.datname = {} AND a.grantee = 0)::text",
                role::GROUP,
                pg::literal(&db),
                pg::literal(&db)
            ),
        )
        .await
        .expect("acl");
        assert_eq!(
            acl[0],
            vec![Some("false".to_owned()), Some("false".to_owned())],
            "PUBLIC keeps no privilege on the scratch database"
        );
        provider.drop_scratch(&db).await;
        let left = query(
            "postgres",
            &format!(
                "SELECT 1 FROM pg_database WHERE datname = {0} UNION ALL \
                 SELECT 1 FROM pg_roles WHERE rolname IN ({0}, {1})",
                pg::literal(&db),
                pg::literal(&role::login_role(&db))
            ),
        )
        .await
        .expect("leftovers");
        assert!(left.is_empty(), "the scratch database or its roles stayed");
    });
}

fn isolation_a_sql_file_with_trusted_extensions_and_grants_still_loads() {
    let p = seeded("iso_scratch_ordinary");
    // Roles are server-wide: the one the schema grants to exists on the server already.
    p.main_sql(
        "DO $$ BEGIN CREATE ROLE it_scratch_reader; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    );
    let schema = "create extension if not exists pgcrypto;\n\
                  create extension if not exists citext;\n\
                  create extension if not exists hstore;\n\
                  create extension if not exists \"uuid-ossp\";\n\
                  create table customers (id bigint primary key, secret text);\n\
                  create table accounts (id uuid primary key default gen_random_uuid(), \
                  email citext not null, tags hstore, other uuid default uuid_generate_v4());\n\
                  grant select on accounts to it_scratch_reader;\n";
    let out = diff_to(&p, "schema.sql", schema);
    out.code(exit::OK)
        .stdout_has("CREATE EXTENSION")
        .stdout_has("citext")
        .stdout_has("CREATE TABLE public.accounts")
        .stdout_has("GRANT SELECT ON TABLE public.accounts TO it_scratch_reader;");
    // `CREATE ROLE` in the file: refused with what to do, and it names the way out …
    let with_role = format!(
        "DO $$ BEGIN CREATE ROLE it_scratch_writer; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;\n{schema}"
    );
    let out = diff_to(&p, "with_role.sql", &with_role);
    out.code(exit::PROVIDER);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("permission denied to create role"), "{out}");
    assert!(text.contains("roles are server-wide"), "{out}");
    // … which loads it as the server's role.
    let p = p.config("[provider]\ntool-role = \"server\"\n").commit();
    let out = diff_to(&p, "with_role.sql", &with_role);
    out.code(exit::OK)
        .stdout_has("GRANT SELECT ON TABLE public.accounts TO it_scratch_reader;");
}

/// Whether `PUBLIC` holds any privilege on database `db` (a new database grants it CONNECT
/// and TEMPORARY).
fn public_privileges(p: &Project, db: &str) -> String {
    p.main_sql(&format!(
        "SELECT (d.datacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(d.datacl) a \
         WHERE a.grantee = 0))::text FROM pg_database d WHERE d.datname = {}",
        pg::literal(db)
    ))[0][0]
        .clone()
        .unwrap_or_default()
}

fn isolation_databases_neon_migrate_creates_grant_connect_to_no_other_role() {
    // The main database the embedded server's provider creates on first use.
    let p = Project::new("iso_acl_main").config("").commit();
    p.run(&["diff", "--from", "main", "--to", "main"]).code(exit::OK);
    assert_eq!(public_privileges(&p, p.main_db()), "false", "main");
    // A test copy: the tool (its owner) sees that PUBLIC holds nothing on it.
    let p = seeded("iso_acl_copy").git_branch("isolation/acl");
    let psql = cluster().bin.join("psql");
    let p = p
        .config(&format!(
            "[tool]\nname = \"probe\"\ncommand = '''\"{}\" -X -v ON_ERROR_STOP=1 -Atc \
             \"select 'public=' || (d.datacl is null or exists (select 1 from aclexplode(d.datacl) a \
             where a.grantee = 0))::text || ' owner=' || has_database_privilege(current_database(), \
             'CONNECT')::text from pg_database d where d.datname = current_database()\"; exit 3'''\n",
            psql.display()
        ))
        .commit();
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("public=false owner=true");
    p.assert_no_test_db_branches();
}
