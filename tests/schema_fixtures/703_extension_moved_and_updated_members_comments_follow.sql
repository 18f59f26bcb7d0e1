-- An extension moves to another schema and changes version: its members' comments (set by
-- its script) follow it, like the rest of their definitions — the plan wrote COMMENT ON
-- for each member after ALTER EXTENSION … SET SCHEMA, noise that fails for a role not owning
-- them (found by an outside attacker).
-- [a]
create schema f703_a;
create extension cube version '1.4' schema f703_a;
create table f703 (id int);
-- [b]
create schema f703_b;
create extension cube version '1.5' schema f703_b;
create table f703 (id int);
-- [hazards] correctness
-- [sql] ALTER EXTENSION cube SET SCHEMA f703_b
-- [no-sql] COMMENT ON
