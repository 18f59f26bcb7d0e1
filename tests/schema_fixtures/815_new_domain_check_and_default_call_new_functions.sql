-- A new domain whose CHECK and DEFAULT call functions the plan creates, one of which takes
-- the domain itself: the domain was created with both before the functions existed ("function
-- public.f815_okv(integer) does not exist", found by an outside attacker). It is created bare,
-- and its CHECK and DEFAULT are given after the functions.
-- [a]
create table f815_base (id int);
-- [b]
create table f815_base (id int);
create function f815_okv(int) returns bool language sql immutable as 'select $1 > 0';
create function f815_dv() returns int language sql as 'select 5';
create domain f815_pos as int default f815_dv() check (f815_okv(value));
create function f815_useit(x f815_pos) returns int language sql as 'select x';
create table f815_t (id int, x f815_pos);
-- [hazards]
-- [sql] ALTER DOMAIN public.f815_pos ADD CONSTRAINT f815_pos_check CHECK (public.f815_okv(VALUE))
-- [sql] ALTER DOMAIN public.f815_pos SET DEFAULT public.f815_dv()
