-- The safety net: a view column's default (ALTER VIEW … ALTER COLUMN … SET DEFAULT) is seen
-- and reported.
-- [a]
create table t (id int, note text);
create view v as select id, note from t;
-- [b]
create table t (id int, note text);
create view v as select id, note from t;
alter view v alter column note set default 'none';
-- [hazards]
-- [unsupported] not modeled by the schema engine: view column default note on public.v differs
