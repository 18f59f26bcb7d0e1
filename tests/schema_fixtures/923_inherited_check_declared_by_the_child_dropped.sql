-- A child table declares a CHECK of the name it inherits (conislocal and coninhcount > 0),
-- and the desired schema has it inherited only (attacker F21, ih_chk_local_mask): PostgreSQL
-- cannot drop the child's own declaration ("cannot drop inherited constraint"), so the plan
-- is refused rather than fail on apply.
-- [a]
create table p (x int, constraint chk check (x > 0));
create table c (constraint chk check (x > 0)) inherits (p);
-- [b]
create table p (x int, constraint chk check (x > 0));
create table c () inherits (p);
-- [hazards]
-- [unsupported] table public.c: CHECK chk is declared on it and inherited from public.p
