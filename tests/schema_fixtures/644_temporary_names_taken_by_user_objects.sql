-- The schema already has objects named like the plan's temporary names (an index renamed
-- away, an enum recreated, a NOT NULL check): the plan picks other names, and never drops
-- the user's objects.
-- [a]
create type e as enum ('a', 'b');
create type e__neon_migrate_old as enum ('z');
create table t (id int, x int constraint x_nn_neon_migrate check (x > -100), v e);
create index ix on t (x);
create index ix_neon_migrate_old on t (id);
-- [b]
create type e as enum ('b', 'a');
create type e__neon_migrate_old as enum ('z');
create table t (id int, x int not null constraint x_nn_neon_migrate check (x > -100), v e);
create index ix on t (x desc);
create index ix_neon_migrate_old on t (id);
-- [hazards] access_exclusive_lock, correctness, index_build, index_dropped, table_rewrite
-- [sql] RENAME TO "e__neon_migrate_old_2"
-- [sql] RENAME TO "ix_neon_migrate_old_2"
-- [sql] x_nn_neon_migrate_2
