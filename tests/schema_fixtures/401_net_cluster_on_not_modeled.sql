-- The safety net sees an aspect of a modeled kind the model leaves out: `CLUSTER ON` marks an
-- index (pg_index.indisclustered); the index's model is the same, the catalog's row is not.
-- [a]
create table t (id int, code text);
create index t_code_idx on t (code);
-- [b]
create table t (id int, code text);
create index t_code_idx on t (code);
alter table t cluster on t_code_idx;
-- [hazards]
-- [unsupported] not modeled by the schema engine: index public.t_code_idx on public.t differs
