-- A partition detached that then changes its columns (type, a new column): the column
-- changes came before the DETACH and failed ("cannot alter inherited column"; found by an
-- outside attacker). It is now detached first, then altered as a table of its own.
-- [a]
create table f666 (id int, k int, x int) partition by list (k);
create table f666_1 partition of f666 for values in (1);
create table f666_2 partition of f666 for values in (2);
insert into f666 values (1, 2, 3);
-- [b]
create table f666 (id int, k int, x int) partition by list (k);
create table f666_1 partition of f666 for values in (1);
create table f666_2 (id int, k int, x bigint, y text);
-- [hazards] access_exclusive_lock, correctness, table_rewrite
-- [sql] DETACH PARTITION public.f666_2
-- [sql] ALTER TABLE public.f666_2 ALTER COLUMN x TYPE bigint
