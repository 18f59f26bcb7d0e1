-- A composite type with a typed table changes an attribute's type while a view reads the
-- column: the view is rebuilt around ALTER TYPE … ALTER ATTRIBUTE … TYPE … CASCADE, which
-- rewrites the typed table.
-- [a]
create type f807_ct as (a int, b int);
create table f807_typed of f807_ct;
create view f807_v as select a, b from f807_typed;
insert into f807_typed values (1, 2);
-- [b]
create type f807_ct as (a int, b bigint);
create table f807_typed of f807_ct;
create view f807_v as select a, b from f807_typed;
-- [hazards] access_exclusive_lock, table_rewrite
-- [sql] ALTER TYPE public.f807_ct ALTER ATTRIBUTE b TYPE bigint CASCADE;
