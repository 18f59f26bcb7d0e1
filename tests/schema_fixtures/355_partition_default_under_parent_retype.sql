-- A partition's own default on a column its parent retypes (dropped before, set after), and a
-- partition's own default on a column its parent adds.
-- [a]
create type e1 as enum ('a', 'b');
create table pp (id int, k int, x int) partition by list (k);
create table pp1 partition of pp for values in (1);
alter table pp1 alter column x set default 1;
-- [b]
create type e1 as enum ('a', 'b');
create table pp (id int, k int, x e1, y int) partition by list (k);
create table pp1 partition of pp for values in (1);
alter table pp1 alter column x set default 'a';
alter table pp1 alter column y set default 7;
-- [hazards] access_exclusive_lock, table_rewrite
-- [sql] ALTER TABLE public.pp1 ALTER COLUMN x DROP DEFAULT
