-- A new column with options (n_distinct): the plan adds the column without them, so the
-- net reports them (a new object's unmodeled parts count too).
-- [a]
create table t624 (id int);
-- [b]
create table t624 (id int, x int);
alter table t624 alter column x set (n_distinct = 10);
-- [hazards]
-- [unsupported] not modeled by the schema engine: column public.t624.x differs (options
