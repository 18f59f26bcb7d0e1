-- A table handed to a role that held a column privilege: ALTER OWNER leaves that column grant
-- in place, now the owner's own entry (a column's ACL has no owner's entry by default), so the
-- plan revokes it when the desired schema has none (it did not, and never converged; found by
-- an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f525_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f525_bob; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f525 (id int primary key, x int);
grant update (x) on f525 to f525_alice;
-- [b]
DO $$ BEGIN CREATE ROLE f525_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f525_bob; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f525 (id int primary key, x int);
alter table f525 owner to f525_alice;
grant update (x) on f525 to f525_bob;
-- [hazards] authz_update
-- [sql] REVOKE UPDATE (x) ON TABLE public.f525 FROM f525_alice
