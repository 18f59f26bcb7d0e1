-- The reverse of 707: a role loses a table privilege's grant option and the column grant it
-- made with it goes too: the column REVOKE (as that role) comes before the grant option's.
-- [a]
DO $$ BEGIN CREATE ROLE f708_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f708_bob; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f708 (id int, x int);
grant select on f708 to f708_alice with grant option;
set role f708_alice;
grant select (x) on f708 to f708_bob;
reset role;
-- [b]
DO $$ BEGIN CREATE ROLE f708_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f708_bob; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f708 (id int, x int);
grant select on f708 to f708_alice;
-- [hazards] authz_update
