-- A column whose type changes while a rule and a function with a SQL-standard body read it:
-- Postgres refuses the change, so the plan refuses it up front, naming the column and what
-- uses it (found by an outside attacker: the plan failed to apply).
-- [a]
create table f512_t (id int, v int);
create table f512_log (v int);
create rule f512_r as on insert to f512_log do also insert into f512_t (v) values (new.v);
create function f512_f() returns bigint language sql begin atomic select sum(v) from f512_t; end;
-- [b]
create table f512_t (id int, v bigint);
create table f512_log (v int);
create rule f512_r as on insert to f512_log do also insert into f512_t (v) values (new.v);
create function f512_f() returns bigint language sql begin atomic select sum(v) from f512_t; end;
-- [hazards]
-- [unsupported] column public.f512_t.v: its type changes (integer → bigint), but function public.f512_f(), rule
