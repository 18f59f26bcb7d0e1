-- An UNLOGGED table with an identity and a serial column made LOGGED, and a new UNLOGGED
-- table with an identity column (F5): PostgreSQL gives a table's owned sequences its
-- persistence, so the plan explains theirs (it used to be "not modeled", exit 4).
-- [a]
create unlogged table u625 (id int generated always as identity, n serial);
-- [b]
create table u625 (id int generated always as identity, n serial);
create unlogged table v625 (id int generated always as identity);
-- [hazards] access_exclusive_lock, table_rewrite
-- [sql] ALTER TABLE public.u625 SET LOGGED
