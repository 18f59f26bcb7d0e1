-- A column that a stored generated column reads changes type. Before PostgreSQL 17 the
-- generated column was dropped and added again around the change, silently losing its
-- indexes, unique index, CHECK and extended statistics; with a foreign key referencing it the
-- plan failed half-way (found by an outside attacker). Both are now refused, naming the column
-- and what would be lost; the columns it reads keep their type. On PostgreSQL ≥ 17 the
-- expression is not suspended either: a NULL would break the CHECK and the foreign key.
-- [a]
create table f780_c (id int primary key, pid int, g int generated always as (pid + 1) stored);
create index f780_c_g on f780_c (g);
create unique index f780_c_g_uq on f780_c (id, g) where g > 0;
alter table f780_c add constraint f780_g_ck check (g > -100);
create statistics f780_st on id, g from f780_c;
insert into f780_c (id, pid) values (1, 1);
create table f780_p (id int primary key, pid int, g int generated always as (pid + 1) stored);
alter table f780_p add constraint f780_p_idg unique (id, g);
create table f780_d (id int, cg int, cid int);
alter table f780_d add constraint f780_d_fk foreign key (cid, cg) references f780_p (id, g);
insert into f780_p (id, pid) values (1, 1);
insert into f780_d values (1, 2, 1);
-- [b]
create table f780_c (id int primary key, pid bigint, g int generated always as (pid + 1) stored);
create index f780_c_g on f780_c (g);
create unique index f780_c_g_uq on f780_c (id, g) where g > 0;
alter table f780_c add constraint f780_g_ck check (g > -100);
create statistics f780_st on id, g from f780_c;
insert into f780_c (id, pid) values (1, 1);
create table f780_p (id int primary key, pid bigint, g int generated always as (pid + 1) stored);
alter table f780_p add constraint f780_p_idg unique (id, g);
create table f780_d (id int, cg int, cid int);
alter table f780_d add constraint f780_d_fk foreign key (cid, cg) references f780_p (id, g);
-- [hazards]
-- [unsupported] column public.f780_c.g: it is generated from a column whose type changes
-- [unsupported] public.f780_c.f780_g_ck
-- [unsupported] index public.f780_c_g
-- [unsupported] statistics public.f780_st
-- [unsupported] column public.f780_p.g: it is generated from a column whose type changes
-- [unsupported] public.f780_d.f780_d_fk
