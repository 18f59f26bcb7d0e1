-- A generated column's own type changes: no USING (Postgres refuses one: the column is
-- computed again by its expression) (found by an outside attacker: the plan failed to apply).
-- [a]
create table f513_t (a int, g int generated always as (a * 2) stored);
insert into f513_t (a) values (1), (2);
-- [b]
create table f513_t (a int, g bigint generated always as (a * 2) stored);
-- [hazards] access_exclusive_lock, table_rewrite
-- [sql] ALTER TABLE public.f513_t ALTER COLUMN g TYPE bigint;
