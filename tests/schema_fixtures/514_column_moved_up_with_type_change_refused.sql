-- A column moved up an inheritance hierarchy (added to the parent, already declared by a
-- child) whose type changes too: Postgres merges it only into a child of the same type, so the
-- plan refuses it up front, naming the column and the child; the child's column is left as it
-- is (found by an outside attacker: the plan failed to apply).
-- [a]
create table f514_p (id int);
create table f514_c (x int, y int) inherits (f514_p);
-- [b]
create table f514_p (id int, x bigint);
create table f514_c (x bigint, y int) inherits (f514_p);
-- [hazards]
-- [unsupported] column public.f514_p.x: added to public.f514_p while public.f514_c already declare it
