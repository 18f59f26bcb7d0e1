-- A CHECK a child both inherits and declares goes from the parent and the child (attacker
-- F21): the parent's is dropped first (the child's declaration then stands alone), then the
-- child's — in the other order PostgreSQL refuses to drop an inherited constraint.
-- [a]
create table z (x int, constraint chk check (x > 0));
create table a (constraint chk check (x > 0)) inherits (z);
-- [b]
create table z (x int);
create table a () inherits (z);
-- [hazards]
-- [sql] ALTER TABLE public.z DROP CONSTRAINT "chk"
-- [sql] ALTER TABLE public.a DROP CONSTRAINT "chk"
