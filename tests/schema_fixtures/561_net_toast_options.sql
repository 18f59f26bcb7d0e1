-- The safety net: a table's toast.* options (kept on its TOAST table) are seen and reported.
-- [a]
create table t (id int, note text);
-- [b]
create table t (id int, note text);
alter table t set (toast.autovacuum_enabled = false);
-- [hazards]
-- [unsupported] not modeled by the schema engine: toast options public.t differs
