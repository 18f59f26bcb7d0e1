-- A function with a SQL-standard body reading a new VIEW: it was created after the tables but
-- before the views (`relation "public.f983_v0" does not exist`; found by an outside attacker,
-- d39b_sqlstd_reads_new_view). It is created among the views, after the one it reads, and a
-- view calling it after it.
-- [a]
create table f983_base(id int primary key, n int);
-- [b]
create table f983_base(id int primary key, n int);
create view f983_v0 as select id, n from f983_base;
create function f983_f(i int) returns bigint language sql stable begin atomic select count(*) from f983_v0 where n = i; end;
create view f983_v2 as select id, f983_f(id) c from f983_base;
-- [hazards]
-- [sql] CREATE VIEW public.f983_v2
