-- The safety net: a foreign key's internal triggers disabled (ALTER TABLE … DISABLE TRIGGER
-- ALL) leave the key unenforced; pg_dump -s does not show it and the engine said "no schema
-- changes" (found by an outside attacker). Reported as not modeled.
-- [a]
create table f526_p (id int primary key);
create table f526_c (pid int references f526_p (id));
-- [b]
create table f526_p (id int primary key);
create table f526_c (pid int references f526_p (id));
alter table f526_c disable trigger all;
-- [hazards]
-- [unsupported] not modeled by the schema engine: internal trigger
