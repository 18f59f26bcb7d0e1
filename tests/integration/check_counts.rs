//! The rows a plan's statement checks, counted where PostgreSQL checks them (issue 17, attack
//! round 10): every partition of a partitioned table, the inheritance children of a parent for
//! the statements that reach them (SET NOT NULL, CHECK, ALTER COLUMN TYPE) and not for those
//! that do not (UNIQUE, FOREIGN KEY, whose target is read `ONLY`). A CHECK whose expression
//! cannot be evaluated on `--from` is said "not counted" and refused, never passed silently.

use neon_migrate::exit;

use crate::support::Project;
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        diff_counts_a_narrowing_on_every_partition_and_inheritance_child,
        diff_counts_inheritance_children_where_postgres_checks_them,
        diff_does_not_count_inheritance_children_under_keys,
        diff_refuses_a_check_calling_a_function_it_cannot_run_and_counts_an_unchanged_one,
        diff_counts_a_domain_check_over_a_partitioned_table_once,
        diff_counts_a_check_over_a_column_the_plan_adds_with_its_default,
        diff_counts_a_unique_index_on_a_partitioned_table_and_an_exclusion_constraint,
        diff_counts_duplicates_of_an_expression_or_partial_unique_index,
        diff_counts_an_exclusion_constraint_with_a_predicate_or_expressions,
        diff_refuses_a_check_over_a_new_identity_column_of_a_table_with_rows,
    ]
}

fn diff(p: &Project) -> crate::support::Output {
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
}

/// `bigint → integer` on a partitioned table read `FROM ONLY` the parent (no rows) row by row:
/// the plan said "rows not counted" and exited 0; on an inheritance parent the child's value
/// was not read at all.
fn diff_counts_a_narrowing_on_every_partition_and_inheritance_child() {
    let p = Project::new("counts_narrow")
        .file(
            "target.sql",
            "create table p (id int, k int, n int) partition by range (k);\n\
             create table p1 partition of p for values from (0) to (10);\n\
             create table par (id int, n int);\n\
             create table ch () inherits (par);\n",
        )
        .commit();
    p.main_sql(
        "create table p (id int, k int, n bigint) partition by range (k); \
         create table p1 partition of p for values from (0) to (10); \
         insert into p values (1, 1, 9999999999), (2, 2, 3); \
         create table par (id int, n bigint); create table ch () inherits (par); \
         insert into par values (1, 1); insert into ch values (2, 9999999999)",
    );
    diff(&p)
        .code(exit::CHECK_FAILED)
        .stdout_has("1 row(s) of main: column public.p.n holds values that bigint → integer refuses")
        .stdout_has("1 row(s) of main: column public.par.n holds values that bigint → integer refuses");
    p.main_sql("update p set n = 4 where n > 10; update par set n = 4 where n > 10");
    diff(&p).code(exit::OK);
}

/// SET NOT NULL and a CHECK on an inheritance parent reach its children, whose rows were not
/// counted (`FROM ONLY` the parent): both exited 0 and failed on the child. A FOREIGN KEY
/// reads its target `ONLY`: a value held by a child of the target only is an orphan, which the
/// count took for a match.
fn diff_counts_inheritance_children_where_postgres_checks_them() {
    let p = Project::new("counts_inherit")
        .file(
            "target.sql",
            "create table par (id int, v int not null, w int check (w > 0));\n\
             create table ch () inherits (par);\n\
             create table r (id int primary key); create table rc () inherits (r);\n\
             create table t (id int primary key, rid int references r (id));\n",
        )
        .commit();
    p.main_sql(
        "create table par (id int, v int, w int); create table ch () inherits (par); \
         insert into par values (1, 1, 1); insert into ch values (2, null, -5); \
         create table r (id int primary key); create table rc () inherits (r); \
         create table t (id int primary key, rid int); \
         insert into r values (1); insert into rc values (2); insert into t values (1, 1), (2, 2)",
    );
    diff(&p)
        .code(exit::CHECK_FAILED)
        .stdout_has("1 row(s) of main: column public.par.v holds NULL")
        .stdout_has("1 row(s) of main: rows of public.par violate the new CHECK ((w > 0))")
        .stdout_has("1 row(s) of main (e.g. key 2): rows of public.t reference no row of public.r");
    p.main_sql("update par set v = 1, w = 1; delete from t where id = 2");
    diff(&p).code(exit::OK);
}

/// A UNIQUE constraint and a FOREIGN KEY of an inheritance parent are the parent's alone:
/// a child's rows must not be counted (they would refuse a plan that applies).
fn diff_does_not_count_inheritance_children_under_keys() {
    let p = Project::new("counts_inherit_keys")
        .file(
            "target.sql",
            "create table r (id int primary key);\n\
             create table par (id int, v int unique, rid int references r (id));\n\
             create table ch () inherits (par);\n",
        )
        .commit();
    p.main_sql(
        "create table r (id int primary key); insert into r values (1); \
         create table par (id int, v int, rid int); create table ch () inherits (par); \
         insert into par values (1, 1, 1); insert into ch values (2, 1, 99)",
    );
    diff(&p)
        .code(exit::OK)
        .stdout_lacks("row(s) of main");
}

/// A CHECK calling a function the plan creates could not be counted (the count failed on the
/// unknown function) and nothing was said: the plan exited 0 and its VALIDATE failed. It is
/// now said "not counted" and refused while the table has rows. A function `--from` has as the
/// desired schema has it is run: its violations are counted.
fn diff_refuses_a_check_calling_a_function_it_cannot_run_and_counts_an_unchanged_one() {
    let p = Project::new("counts_check_function")
        .file(
            "target.sql",
            "create function okv(x int) returns boolean language sql immutable return x >= 0;\n\
             create function okw(x int) returns boolean language sql immutable return x >= 0;\n\
             create table t (id int primary key, v int check (okv(v)));\n\
             create table s (id int primary key, v int check (okw(v)));\n",
        )
        .commit();
    p.main_sql(
        "create function okw(x int) returns boolean language sql immutable return x >= 0; \
         create table t (id int primary key, v int); insert into t values (1, -5); \
         create table s (id int primary key, v int); insert into s values (1, -5), (2, 3)",
    );
    diff(&p)
        .code(exit::CHECK_FAILED)
        .stdout_has("1 row(s) of main in public.t were not counted")
        .stdout_has("the statement fails if any of them violate CHECK (public.okv(v))")
        .stdout_has("1 row(s) of main (e.g. key 1): rows of public.s violate the new CHECK (public.okw(v))");
    // An empty table cannot fail the CHECK; s's rows pass it.
    p.main_sql("delete from t; update s set v = 5");
    diff(&p).code(exit::OK);
}

/// A domain's new CHECK over a partitioned table's column was counted on the table (all its
/// partitions) and again on each partition (its inherited column): one row, two refusals.
fn diff_counts_a_domain_check_over_a_partitioned_table_once() {
    let p = Project::new("counts_domain_partitioned")
        .file(
            "target.sql",
            "create domain dpos as int check (value > 0);\n\
             create table p (k int, v dpos) partition by range (k);\n\
             create table p1 partition of p for values from (0) to (10);\n\
             create table p2 partition of p for values from (10) to (20);\n",
        )
        .commit();
    p.main_sql(
        "create domain dpos as int; \
         create table p (k int, v dpos) partition by range (k); \
         create table p1 partition of p for values from (0) to (10); \
         create table p2 partition of p for values from (10) to (20); \
         insert into p values (1, -1), (11, 5)",
    );
    diff(&p)
        .code(exit::CHECK_FAILED)
        .stdout_has("1 row(s) of main: column public.p.v holds values that the CHECK ((VALUE > 0))")
        .stdout_lacks("column public.p1.v");
}

/// A CHECK over a column the plan adds could not be counted on `--from` (no such column) and
/// nothing refused it: the plan exited 0, and its VALIDATE failed on the default every row got.
/// The new column is read as its default, or its generation expression (a child of the table
/// gets it too).
fn diff_counts_a_check_over_a_column_the_plan_adds_with_its_default() {
    let p = Project::new("counts_new_column_check")
        .file(
            "target.sql",
            "create table t (id int primary key, v int, c int default 5, d text, check (c > v), check (d <> ''),\n\
               g int generated always as (v * 2) stored check (g < 10));\n\
             create table tc () inherits (t);\n",
        )
        .commit();
    p.main_sql(
        "create table t (id int primary key, v int); create table tc () inherits (t); \
         insert into t values (1, 2); insert into tc values (2, 7)",
    );
    diff(&p)
        .code(exit::CHECK_FAILED)
        .stdout_has("1 row(s) of main (e.g. key 2): rows of public.t violate the new CHECK ((c > v))")
        .stdout_has("1 row(s) of main (e.g. key 2): rows of public.t violate the new CHECK ((g < 10))")
        .stdout_lacks("violate the new CHECK ((d <>");
    p.main_sql("update t set v = 1");
    diff(&p).code(exit::OK);
}

/// A unique index on a partitioned table and an EXCLUDE constraint were not counted at all:
/// the plan exited 0, then its build failed on the duplicates / conflicting rows.
fn diff_counts_a_unique_index_on_a_partitioned_table_and_an_exclusion_constraint() {
    let p = Project::new("counts_partitioned_index_exclusion")
        .file(
            "target.sql",
            "create table p (k int, v int) partition by range (k);\n\
             create table p1 partition of p for values from (0) to (10);\n\
             create unique index p_kv on p (k, v);\n\
             create table t (id int primary key, k int, r int4range, exclude using gist (r with &&));\n",
        )
        .commit();
    p.main_sql(
        "create table p (k int, v int) partition by range (k); \
         create table p1 partition of p for values from (0) to (10); \
         insert into p values (1, 1), (1, 1), (2, 1); \
         create table t (id int primary key, k int, r int4range); \
         insert into t values (1, 1, '[1,5)'), (2, 2, '[3,8)'), (3, 3, null), (4, 4, '[9,10)')",
    );
    diff(&p)
        .code(exit::CHECK_FAILED)
        .stdout_has("2 row(s) of main: rows of public.p share their values of (k, v), which the new unique index public.p_kv")
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.t conflict with each other on (r)");
    p.main_sql("delete from p where v = 1 and k = 1; update t set r = '[5,8)' where id = 2");
    diff(&p).code(exit::OK);
}

/// A unique index on expressions (`lower(email)`) or with a predicate was only said "not
/// counted": the plan exited 0, and its build failed on the duplicates. Counted now, among the
/// rows of the predicate (of every partition), NULLs apart; one whose element the count cannot
/// select (an operator class of its own) refuses the plan while its table has rows.
fn diff_counts_duplicates_of_an_expression_or_partial_unique_index() {
    let p = Project::new("counts_expression_index")
        .file(
            "target.sql",
            "create table users (id int primary key, email text, deleted_at timestamptz);\n\
             create unique index users_email on users (lower(email)) where deleted_at is null;\n\
             create table p (k int, e text) partition by range (k);\n\
             create table p1 partition of p for values from (0) to (10);\n\
             create table p2 partition of p for values from (10) to (20);\n\
             create unique index p_e on p (k, lower(e));\n\
             create type pt as (x numeric);\n\
             create table q (id int primary key, v pt);\n\
             create unique index q_v on q (v record_image_ops);\n",
        )
        .commit();
    p.main_sql(
        "create table users (id int primary key, email text, deleted_at timestamptz); \
         insert into users values (1, 'A@x', null), (2, 'a@x', null), (3, 'a@X', now()), \
           (4, null, null), (5, null, null); \
         create table p (k int, e text) partition by range (k); \
         create table p1 partition of p for values from (0) to (10); \
         create table p2 partition of p for values from (10) to (20); \
         insert into p values (1, 'B'), (1, 'b'), (11, 'b'), (12, null), (12, null); \
         create type pt as (x numeric); \
         create table q (id int primary key, v pt); insert into q values (1, row(1))",
    );
    diff(&p)
        .code(exit::CHECK_FAILED)
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.users share their values of (lower(email)) among the rows WHERE (deleted_at IS NULL), which the new unique index public.users_email")
        .stdout_has("2 row(s) of main: rows of public.p share their values of (k, lower(e)), which the new unique index public.p_e")
        .stdout_has("1 row(s) of main in public.q were not counted (its elements carry an operator class");
    p.main_sql("update users set deleted_at = now() where id = 2; delete from p where e = 'B'; delete from q");
    diff(&p).code(exit::OK);
}

/// An EXCLUDE with a predicate or expression elements was only said "not counted": the plan
/// exited 0, and building it failed on the conflicting rows.
fn diff_counts_an_exclusion_constraint_with_a_predicate_or_expressions() {
    let p = Project::new("counts_exclusion_predicate")
        .file(
            "target.sql",
            "create table t (id int primary key, r int4range, exclude using gist (r with &&) where (id > 0));\n\
             create table s (id int primary key, a int, b int, exclude using gist (int4range(a, b) with &&));\n",
        )
        .commit();
    p.main_sql(
        "create table t (id int primary key, r int4range); \
         insert into t values (1, '[1,5)'), (2, '[3,8)'), (-1, '[1,9)'); \
         create table s (id int primary key, a int, b int); \
         insert into s values (1, 1, 5), (2, 4, 8), (3, 8, 9)",
    );
    diff(&p)
        .code(exit::CHECK_FAILED)
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.t conflict with each other on (r) under the new EXCLUDE USING gist (r WITH &&) WHERE ((id > 0))")
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.s conflict with each other on (int4range(a, b))");
    p.main_sql("update t set r = '[5,8)' where id = 2; update s set a = 5 where id = 2");
    diff(&p).code(exit::OK);
}

/// A new identity column under a new CHECK could not be counted (`--from` has no such column,
/// and its values are the sequence's, in the order the rewrite reads the rows): said "not
/// counted", exit 0, and the VALIDATE failed. Refused now while the table has rows.
fn diff_refuses_a_check_over_a_new_identity_column_of_a_table_with_rows() {
    let p = Project::new("counts_identity_check")
        .file(
            "target.sql",
            "create table t (id int primary key, v int, n int generated always as identity check (n < 2));\n",
        )
        .commit();
    p.main_sql("create table t (id int primary key, v int); insert into t values (1, 1), (2, 2)");
    diff(&p)
        .code(exit::CHECK_FAILED)
        .stdout_has("2 row(s) of main in public.t were not counted");
    p.main_sql("delete from t");
    diff(&p).code(exit::OK);
}
