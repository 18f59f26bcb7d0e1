-- The columns both sides have, in another order: what a column dropped and added again under
-- its name leaves (its values gone, its type and name the same). PostgreSQL cannot reorder
-- columns, so the plan says so loudly instead of "no schema changes" (found by an outside
-- attacker: `drop column a; add column a int` passed the schema check as "changed nothing").
-- [a]
create table f516 (id int, a int, b text);
-- [b]
create table f516 (id int, b text, a int);
-- [hazards]
-- [unsupported] table public.f516: the column order differs (id, a, b → id, b, a)
