-- A parent and its child both add a CHECK of one name, the child declaring it too (attacker
-- F21): the child's is added first, then the parent's, which merges with it — in the other
-- order the child would inherit it first and refuse its own `ADD CONSTRAINT`.
-- [a]
create table q (x int);
create table r () inherits (q);
-- [b]
create table q (x int, constraint qchk check (x > 0));
create table r (constraint qchk check (x > 0)) inherits (q);
-- [hazards] access_exclusive_lock, correctness
-- [sql] ALTER TABLE public.r ADD CONSTRAINT "qchk" CHECK ((x > 0)) NOT VALID
