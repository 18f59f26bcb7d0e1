-- A column moved up to the parent: the child's declared copy stays declared (no statement
-- makes it inherited-only): reported, naming the column.
-- [a]
create table p (id int);
create table c (x int, y int) inherits (p);
-- [b]
create table p (id int, x int);
create table c (y int) inherits (p);
-- [hazards]
-- [unsupported] column public.c.x
