-- An index re-created (renamed, built, old one dropped) whose old predicate uses a column the
-- plan drops: the DROP COLUMN takes the renamed index with it, so the old one is dropped IF
-- EXISTS (seen on lago-api's idx_pay_in_advance_duplication_guard_charge).
-- [a]
create table t (id int primary key, a int, b int);
create unique index t_a on t (a) where b is null;
-- [b]
create table t (id int primary key, a int);
create unique index t_a on t (a);
-- [hazards] index_build, index_dropped, deletes_data, access_exclusive_lock
-- [sql] DROP INDEX CONCURRENTLY IF EXISTS public."t_a_neon_migrate_old"
