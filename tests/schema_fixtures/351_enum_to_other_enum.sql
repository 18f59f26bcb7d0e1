-- A column (with a default) and an array column change from one enum type to another:
-- through text, the default dropped and set again.
-- [a]
create type e1 as enum ('a', 'b');
create type e2 as enum ('a', 'b', 'c');
create table t (id int, v e1 default 'b', w e1[]);
insert into t values (1, 'a', '{a,b}');
-- [b]
create type e1 as enum ('a', 'b');
create type e2 as enum ('a', 'b', 'c');
create table t (id int, v e2 default 'c', w e2[]);
-- [hazards] access_exclusive_lock, table_rewrite
-- [sql] USING v::text::public.e2
-- [sql] USING w::text::public.e2[]
