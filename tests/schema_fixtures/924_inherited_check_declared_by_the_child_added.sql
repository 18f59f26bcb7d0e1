-- The reverse of 923: a child that inherits a CHECK is to declare it itself too — PostgreSQL
-- refuses `ADD CONSTRAINT` of a name the table inherits, so the plan is refused.
-- [a]
create table p (x int, constraint chk check (x > 0));
create table c () inherits (p);
-- [b]
create table p (x int, constraint chk check (x > 0));
create table c (constraint chk check (x > 0)) inherits (p);
-- [hazards]
-- [unsupported] table public.c: CHECK chk is inherited from public.p
