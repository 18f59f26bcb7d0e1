-- A comment on a composite type's attribute (F21): planned, and no longer also reported as
-- not modeled.
-- [a]
create type ct626 as (a int);
-- [b]
create type ct626 as (a int);
comment on column ct626.a is 'attr comment';
-- [hazards]
-- [sql] COMMENT ON COLUMN public.ct626.a IS 'attr comment'
