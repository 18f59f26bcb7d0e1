-- A sequence replaced by a table of the same name: the plan created the table (phase of the
-- tables) before dropping the sequence (after them) and failed on "relation already exists"
-- (found by an outside attacker, attack9 F1). Refused, leaving both out of the plan.
-- [a]
create sequence f880_t;
create table f880_keep (id int);
-- [b]
create table f880_t (id int);
create table f880_keep (id int, note text);
-- [hazards]
-- [sql] ADD COLUMN note
-- [unsupported] sequence public.f880_t is replaced by a table of the same name
