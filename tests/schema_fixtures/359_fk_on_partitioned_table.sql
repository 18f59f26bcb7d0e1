-- A foreign key added to a partitioned table that exists: PostgreSQL before 18 refuses
-- NOT VALID there, so it is added and checked at once (under a lock), not in two steps.
-- [a]
create table f359_r (id int primary key);
create table f359_p (id int, at date, ref int) partition by range (at);
create table f359_p_2026 partition of f359_p for values from ('2026-01-01') to ('2027-01-01');
-- [b]
create table f359_r (id int primary key);
create table f359_p (id int, at date, ref int references f359_r (id)) partition by range (at);
create table f359_p_2026 partition of f359_p for values from ('2026-01-01') to ('2027-01-01');
-- [hazards] access_exclusive_lock
