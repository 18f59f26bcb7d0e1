-- A table handed to a role that held a grant option and passed it on: ALTER OWNER makes the
-- new owner's grants the owner's (the grant it made to carol is then the owner's grant) and
-- keeps its grant option on the owner's entry. The plan revoked and granted carol's INSERT
-- again and never converged (found by an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f524_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f524_bob; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f524_carol; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f524 (id int, x int);
grant select on f524 to f524_bob;
grant insert on f524 to f524_alice with grant option;
set role f524_alice;
grant insert on f524 to f524_carol;
reset role;
-- [b]
DO $$ BEGIN CREATE ROLE f524_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f524_bob; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f524_carol; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f524 (id int, x int);
alter table f524 owner to f524_alice;
grant select on f524 to f524_bob;
grant insert on f524 to f524_carol;
-- [hazards] authz_update
-- [sql] ALTER TABLE public.f524 OWNER TO f524_alice
-- [sql] REVOKE GRANT OPTION FOR INSERT ON TABLE public.f524 FROM f524_alice
