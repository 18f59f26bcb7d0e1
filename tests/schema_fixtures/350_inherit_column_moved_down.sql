-- A column moved down an inheritance hierarchy (dropped on the parent, declared on the child):
-- ALTER TABLE ONLY keeps the child's column and its values; another child that does not
-- keep it drops it.
-- [a]
create table p (id int, x int);
create table c (y int) inherits (p);
create table d (z int) inherits (p);
insert into c (id, x, y) values (1, 2, 3);
-- [b]
create table p (id int);
create table c (x int, y int) inherits (p);
create table d (z int) inherits (p);
-- [hazards] deletes_data, access_exclusive_lock
-- [sql] ALTER TABLE ONLY public.p DROP COLUMN x
-- [sql] ALTER TABLE public.d DROP COLUMN x
