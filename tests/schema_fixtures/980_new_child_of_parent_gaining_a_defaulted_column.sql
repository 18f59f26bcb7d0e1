-- A new inheritance child of a parent that gains a column with a DEFAULT: the child's
-- inherited column default was set right after CREATE TABLE, before the parent's ADD COLUMN
-- (`column "c" of relation "f980_ch2" does not exist`; found by an outside attacker,
-- d06_inherit_cols, d102_newchild_inherit_combo). It is set after the parents' columns.
-- [a]
create table f980_par(id int, a text);
create table f980_ch(b int) inherits (f980_par);
insert into f980_ch values (1, 'x', 2);
-- [b]
-- (f980_ch's columns in the order the plan leaves them: a parent's new column comes last)
create table f980_par(id int, a text);
create table f980_ch(b bigint) inherits (f980_par);
alter table f980_par add column c int default 0, add column d text not null default 'x' check (d <> '');
create table f980_ch2() inherits (f980_par);
alter table f980_ch2 alter column c set default 7;
-- [hazards] access_exclusive_lock, table_rewrite, correctness
-- [sql] ALTER TABLE public.f980_ch2 ALTER COLUMN c SET DEFAULT 7
