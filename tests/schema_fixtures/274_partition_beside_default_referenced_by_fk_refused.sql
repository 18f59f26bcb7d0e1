-- A new partition beside a default partition of a table that a foreign key references:
-- Postgres refuses to detach the default partition while referencing rows point into it
-- (attack12 N13: exit 0, then the plan failed at its first statement). Refused.
-- [a]
create table f274_p (id int, k int, primary key (id, k)) partition by range (k);
create table f274_p1 partition of f274_p for values from (0) to (10);
create table f274_pd partition of f274_p default;
create table f274_r (rid int primary key, pid int, pk int, foreign key (pid, pk) references f274_p on delete cascade);
insert into f274_p values (1, 1), (2, 15), (3, 99);
insert into f274_r values (10, 2, 15), (11, 3, 99);
-- [b]
create table f274_p (id int, k int, primary key (id, k)) partition by range (k);
create table f274_p1 partition of f274_p for values from (0) to (10);
create table f274_pd partition of f274_p default;
create table f274_r (rid int primary key, pid int, pk int, foreign key (pid, pk) references f274_p on delete cascade);
create table f274_p2 partition of f274_p for values from (10) to (20);
-- [hazards]
-- [unsupported] foreign keys reference public.f274_p (public.f274_r.f274_r_pid_pk_fkey)
