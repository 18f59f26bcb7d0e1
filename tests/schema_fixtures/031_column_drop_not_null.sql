-- DROP NOT NULL.
-- [a]
create table t (id int primary key, email text not null);
-- [b]
create table t (id int primary key, email text);
-- [hazards]
-- [sql] ALTER TABLE public.t ALTER COLUMN email DROP NOT NULL
