//! Defects found by running neon-migrate on real open-source projects, one test each: a tool
//! that could not load its config file, folders resolved from the wrong place, annotations
//! without a file, connection variables under the project's own names.

use neon_migrate::exit;

use crate::support::{flat_words, Project};
use crate::tools::{nm, project, require, skip_unless, Need};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        trial_knexfile_ts_node_cannot_load_is_a_tool_that_could_not_start_not_a_failed_migration => skip_unless(&[Need::Npm("knex")]),
        trial_tool_that_reached_the_database_is_never_a_start_failure_whatever_its_output_quotes,
    ]
}

fn trial_knexfile_ts_node_cannot_load_is_a_tool_that_could_not_start_not_a_failed_migration() {
    require(&[Need::Npm("knex")]);
    let p = project("knex", true);
    std::fs::remove_file(p.path().join("knexfile.js")).expect("rm knexfile.js");
    let p = p
        .file(
            "knexfile.ts",
            "export default { client: \"pg\", connection: process.env.DATABASE_URL };\n",
        )
        .file("package.json", "{ \"name\": \"ts-knex\", \"type\": \"module\" }\n")
        .config("[tool]\nname = \"knex\"\n")
        .commit()
        .git_branch("feature/knexfile-ts");
    let out = nm(&p, &["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("ERR_UNKNOWN_FILE_EXTENSION");
    let flat = flat_words(&out.stdout);
    for want in [
        "`npx --no -- knex migrate:latest` exited with code 1 and could not start",
        "Node.js could not load the tool's config file (unknown file extension); the migration was not tried",
        "`command = \"npx tsx node_modules/.bin/knex migrate:latest\"`",
    ] {
        assert!(flat.contains(want), "stdout lacks {want:?}\n{out}");
    }
    assert!(!p.main_has("public.widgets"), "{out}");
    p.assert_no_test_db_branches();
}

/// A tool that connected to the target, or whose output carries the server's error, started:
/// its failure is the migration's, even when the text quotes "Cannot find module".
fn trial_tool_that_reached_the_database_is_never_a_start_failure_whatever_its_output_quotes() {
    for (name, command) in [
        (
            "sql_error",
            r#"psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "select 'Cannot find module x' from nope""#,
        ),
        (
            "connected",
            r#"psql "$DATABASE_URL" -qc "select 1" >/dev/null && echo "Error: Cannot find module './seed' imported from migrations/0002.js" && exit 1"#,
        ),
    ] {
        let p = Project::new(&format!("started_{name}"))
            .config(&format!("[tool]\nname = \"shop\"\ncommand = '''{command}'''\n"))
            .commit()
            .git_branch(&format!("feature/{name}"));
        let out = p.run(&["run", "pre-push"]);
        out.code(exit::MIGRATION_FAILED)
            .stdout_has("exited with code 1 on")
            .stdout_has("Cannot find module")
            .stdout_lacks("could not start");
        p.assert_no_test_db_branches();
    }
}
