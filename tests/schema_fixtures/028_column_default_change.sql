-- Defaults set, changed and dropped.
-- [a]
create table t (a int, b text default 'x', c int default 1);
-- [b]
create table t (a int default 42, b text default 'y', c int);
-- [hazards]
-- [sql] ALTER TABLE public.t ALTER COLUMN c DROP DEFAULT
