-- A new inheritance child with its own column, beside a NOT NULL column with a default, a
-- CHECK and a statistics target its parent gains (attack10 d102): the child is created after
-- the parent's ADD COLUMN, so it has B's column order (id, c, extra), and it inherits the rest.
-- [a]
create table par (id int);
create table ch1 () inherits (par);
-- [b]
create table par (id int, c text not null default 'x', constraint ck check (id > 0));
create table ch1 () inherits (par);
create table ch2 (extra int) inherits (par);
alter table par alter column c set statistics 50;
-- [hazards] access_exclusive_lock, correctness
-- [sql] CREATE TABLE public.ch2
