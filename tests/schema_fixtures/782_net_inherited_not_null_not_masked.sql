-- NOT NULL set on a partition's (or an inheritance child's) inherited column alone, beside a
-- new default on the same column: the plan set the default only, and the safety net took the
-- whole column as explained by it (found by an outside attacker: exit 0, the NOT NULL never
-- made). An inherited column's NOT NULL is now a part of its own in the net: reported.
-- [a]
create table f782_p (id int, k int, v text) partition by list (k);
create table f782_p1 partition of f782_p for values in (1);
create table f782_par (id int, v text);
create table f782_chi (x int) inherits (f782_par);
-- [b]
create table f782_p (id int, k int, v text) partition by list (k);
create table f782_p1 partition of f782_p for values in (1);
alter table f782_p1 alter column v set not null;
alter table f782_p1 alter column v set default 'x';
create table f782_par (id int, v text);
create table f782_chi (x int) inherits (f782_par);
alter table f782_chi alter column v set not null;
alter table f782_chi alter column v set default 'x';
-- [hazards]
-- [unsupported] column public.f782_p1.v
-- [unsupported] column public.f782_chi.v
