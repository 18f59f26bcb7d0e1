-- A grant option revoked while the desired schema keeps what was passed on with it (r2's
-- option now comes through r4): Postgres refuses the revoke and CASCADE would take r1's SELECT
-- away, so the plan refuses it loudly.
-- [a]
DO $$ BEGIN CREATE ROLE f603_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f603_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f603_r4; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f603 (id int);
grant select on f603 to f603_r2 with grant option;
set role f603_r2; grant select on f603 to f603_r1; reset role;
-- [b]
DO $$ BEGIN CREATE ROLE f603_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f603_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f603_r4; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f603 (id int);
grant select on f603 to f603_r4 with grant option;
set role f603_r4; grant select on f603 to f603_r2 with grant option; reset role;
set role f603_r2; grant select on f603 to f603_r1; reset role;
-- [hazards]
-- [unsupported] role f603_r2 loses the grant option for SELECT (granted by the owner)
