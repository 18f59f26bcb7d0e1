-- The reverse of 923: a child that inherits a CHECK is to declare it itself too (attacker
-- F21): PostgreSQL merges the declaration added to the child with the one it inherits
-- (conislocal set, coninhcount kept), so the plan converges.
-- [a]
create table p (x int, constraint chk check (x > 0));
create table c () inherits (p);
-- [b]
create table p (x int, constraint chk check (x > 0));
create table c (constraint chk check (x > 0)) inherits (p);
-- [hazards] access_exclusive_lock, correctness
-- [sql] ALTER TABLE public.c ADD CONSTRAINT "chk" CHECK ((x > 0)) NOT VALID
