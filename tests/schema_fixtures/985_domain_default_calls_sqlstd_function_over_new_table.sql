-- A new domain whose DEFAULT calls a SQL-standard function reading a new table: the function
-- waits for the table, but the domain's default was set before it (`function public.f985_dv()
-- does not exist`; found by an outside attacker, d40_sqlstd_domain_default). The default and
-- the CHECK are given after the function.
-- [a]
create table f985_t(id int primary key);
insert into f985_t values (1);
-- [b]
create table f985_cfg(k text primary key, v int);
create function f985_dv() returns int language sql stable return (select v from f985_cfg where k = 'd');
create domain f985_dd as int default f985_dv() check (value >= 0);
create table f985_t(id int primary key, x f985_dd);
-- [hazards]
-- [sql] ALTER DOMAIN public.f985_dd SET DEFAULT public.f985_dv()
