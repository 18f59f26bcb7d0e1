-- A generated column's expression moves off a column the desired schema drops (attacker F18,
-- cd_gen): the dropped column goes only after the generated column stopped reading it
-- (its expression set again on PostgreSQL ≥ 17, the column added again before) — Postgres
-- refuses to drop a column a generated column reads.
-- [a]
create table t (id int, a int, b int, c int generated always as (a * 2) stored);
insert into t (id, a, b) values (1, 2, 3);
-- [b]
create table t (id int, b int, c int generated always as (b * 2) stored);
-- [hazards] access_exclusive_lock, deletes_data, table_rewrite
-- [sql] ALTER TABLE public.t DROP COLUMN a
