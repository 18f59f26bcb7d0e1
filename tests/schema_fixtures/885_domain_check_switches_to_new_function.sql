-- A domain CHECK that now calls a new function: it was added again before the function was
-- created ("function public.ok2(integer) does not exist"; attack9 F4). Added after the
-- functions now.
-- [a]
create function f885_ok1(int) returns bool language sql immutable as 'select $1 > 0';
create domain f885_d as int check (f885_ok1(value));
create table f885_t (id int primary key, x f885_d);
-- [b]
create function f885_ok2(int) returns bool language sql immutable as 'select $1 > 1';
create domain f885_d as int check (f885_ok2(value));
create table f885_t (id int primary key, x f885_d);
-- [hazards] correctness, untrackable_dependencies
