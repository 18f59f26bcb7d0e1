-- A new table's column DEFAULT calling a SQL-standard function that reads a new view over a
-- column the plan adds: the function waits for the view, but the table was created with the
-- default first (`function public.f984_f(integer) does not exist`; found by an outside
-- attacker, d39_sqlstd_order). The table is created without it, and the default set after
-- the function.
-- [a]
create table f984_base(id int primary key);
-- [b]
create table f984_base(id int primary key, n int);
create view f984_v0 as select id, n from f984_base;
create function f984_f(i int) returns bigint language sql stable begin atomic select count(*) from f984_v0 where n = i; end;
create view f984_v2 as select id, f984_f(id) c from f984_base;
create table f984_t2(id int primary key, c bigint default f984_f(1) check (c >= 0));
-- [hazards]
-- [sql] ALTER TABLE public.f984_t2 ALTER COLUMN c SET DEFAULT public.f984_f(1)
