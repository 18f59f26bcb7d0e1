//! The schema check on data destroyed under unchanged names (attack9 F22, F14): a column
//! dropped and added again under its name (or another renamed into its place), a table dropped
//! and rebuilt under its name, a sequence moved back below the values of the column it feeds.
//! The engine compares by name and saw no change; the check compares OIDs, column numbers and
//! sequence positions of the one test Neon database branch before and after the migration.

use neon_migrate::exit;

use crate::support::Project;
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        schema_check_fails_on_a_column_dropped_and_added_again_under_its_name,
        schema_check_fails_on_a_table_rebuilt_under_its_name,
        schema_check_fails_on_an_identity_restarted_below_its_values,
    ]
}

/// Lint is not the guard here: a tool whose SQL the linter cannot see emits the same.
const CONFIG: &str = "[tool]\nname = \"sql\"\n[checks.lint]\nenabled = false\n";

const MAIN: &str =
    "create table f900_acc (id int generated always as identity primary key, note text);\n\
    insert into f900_acc (note) values ('a'), ('b'), ('c');\n";

fn run(name: &str, migration: &str) -> crate::support::Output {
    let p = Project::new(name)
        .config(CONFIG)
        .migration("0001_change.sql", migration)
        .commit()
        .git_branch(&format!("feature/{name}"));
    p.main_sql(MAIN);
    let out = p.run(&["run", "pre-push"]);
    p.assert_no_test_db_branches();
    out
}

fn schema_check_fails_on_a_column_dropped_and_added_again_under_its_name() {
    // The last column dropped and added again: same names, same order.
    run(
        "f900_readd",
        "alter table f900_acc drop column note;\nalter table f900_acc add column note text;\n",
    )
    .code(exit::CHECK_FAILED)
    .stdout_lacks("changed nothing in the schema")
    .stdout_has("deletes_data: ALTER TABLE public.f900_acc DROP COLUMN note; ALTER TABLE public.f900_acc ADD COLUMN note")
    .stdout_has("the values of column note in 3 row(s) of public.f900_acc are lost");
    // Another column renamed into its place.
    run(
        "f900_swapcol",
        "alter table f900_acc add column note2 text;\nupdate f900_acc set note2 = 'overwritten';\n\
         alter table f900_acc drop column note;\nalter table f900_acc rename column note2 to note;\n",
    )
    .code(exit::CHECK_FAILED)
    .stdout_lacks("changed nothing in the schema")
    .stdout_has("the values of column note in 3 row(s) of public.f900_acc are lost");
}

fn schema_check_fails_on_a_table_rebuilt_under_its_name() {
    run(
        "f900_rebuild",
        "create table f900_new (id int generated always as identity primary key, note text);\n\
         insert into f900_new overriding system value select * from f900_acc;\n\
         drop table f900_acc;\nalter table f900_new rename to f900_acc;\n\
         alter table f900_acc rename constraint f900_new_pkey to f900_acc_pkey;\n\
         alter sequence f900_new_id_seq rename to f900_acc_id_seq;\n",
    )
    .code(exit::CHECK_FAILED)
    .stdout_lacks("changed nothing in the schema")
    .stdout_has("table public.f900_acc was dropped and created again under its name (3 row(s) now)")
    // A sequence of its own, new: not "moved back" (trial 8 P5), but as behind its column.
    .stdout_has("correctness: sequence public.f900_acc_id_seq is new and behind its column: its next value is 1 while column public.f900_acc.id already holds values up to 3")
    .stdout_has("public.f900_acc is a new table under the old name: 3 → 3 row(s)");
}

fn schema_check_fails_on_an_identity_restarted_below_its_values() {
    run(
        "f900_restart",
        "alter table f900_acc alter column id restart with 1;\n",
    )
    .code(exit::CHECK_FAILED)
    .stdout_lacks("changed nothing in the schema")
    .stdout_has("correctness: sequence public.f900_acc_id_seq was moved back: its next value is 1 while column public.f900_acc.id already holds values up to 3");
    // Restarted past its values: nothing to say.
    run(
        "f900_restart_ok",
        "alter table f900_acc alter column id restart with 100;\n",
    )
    .code(exit::OK)
    .stdout_lacks("was moved back");
}
