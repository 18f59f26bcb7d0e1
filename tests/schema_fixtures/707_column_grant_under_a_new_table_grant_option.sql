-- A role gets a table privilege WITH GRANT OPTION and passes it on for one column: the
-- table-level grant option comes before the column grant made with it (run the other way,
-- the column GRANT under SET ROLE granted nothing, with a warning only).
-- [a]
DO $$ BEGIN CREATE ROLE f707_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f707_bob; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f707 (id int, x int);
grant select on f707 to f707_alice;
-- [b]
DO $$ BEGIN CREATE ROLE f707_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f707_bob; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f707 (id int, x int);
grant select on f707 to f707_alice with grant option;
set role f707_alice;
grant select (x) on f707 to f707_bob;
reset role;
-- [hazards] authz_update
