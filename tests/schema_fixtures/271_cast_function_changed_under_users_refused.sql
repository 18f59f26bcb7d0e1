-- A cast changes its function while a view, a CHECK, a default and an index apply it.
-- Postgres records no dependency on a cast, only on its function: after DROP CAST / CREATE
-- CAST they keep calling the old function, and both sides deparse alike (`(p)::integer`).
-- Refused, naming them (attack12 N10: the view returned 1 where the target's returns 100,
-- and the re-diff was empty). A view calling the old function by name is not named.
-- [a]
create type pt as (x int);
create function pt2int_v1(pt) returns int language sql immutable as 'select $1.x';
create function pt2int_v2(pt) returns int language sql immutable as 'select $1.x * 100';
create cast (pt as int) with function pt2int_v1(pt);
create table t (p pt, n int default ((row(1)::pt)::int), check ((p)::int >= 0));
create index t_n on t (((p)::int));
create view v as select p::int as n from t;
create view w as select pt2int_v1(p) as n from t;
-- [b]
create type pt as (x int);
create function pt2int_v1(pt) returns int language sql immutable as 'select $1.x';
create function pt2int_v2(pt) returns int language sql immutable as 'select $1.x * 100';
create cast (pt as int) with function pt2int_v2(pt);
create table t (p pt, n int default ((row(1)::pt)::int), check ((p)::int >= 0));
create index t_n on t (((p)::int));
create view v as select p::int as n from t;
create view w as select pt2int_v1(p) as n from t;
-- [hazards]
-- [unsupported] cast (public.pt AS integer) changes how it converts
-- [unsupported] rel:public.v
-- [unsupported] index:public.t_n
-- [unsupported] col:public.t.n
-- [unsupported] con:public.t.t_p_check
