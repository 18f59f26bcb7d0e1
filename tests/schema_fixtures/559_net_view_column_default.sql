-- A view column's default (ALTER VIEW … ALTER COLUMN … SET DEFAULT) set, changed and dropped
-- in place (it was seen by the safety net only, and refused; found on a real project's
-- audit-trigger schema by the real-project trial).
-- [a]
create table t (id int, note text, at date);
create view v as select id, note, at from t;
alter view v alter column id set default 1;
alter view v alter column at set default current_date;
-- [b]
create table t (id int, note text, at date);
create view v as select id, note, at from t;
alter view v alter column note set default 'none';
alter view v alter column id set default 2;
-- [hazards]
-- [sql] ALTER VIEW public.v ALTER COLUMN note SET DEFAULT 'none'::text
-- [sql] ALTER VIEW public.v ALTER COLUMN id SET DEFAULT 2
-- [sql] ALTER VIEW public.v ALTER COLUMN at DROP DEFAULT
