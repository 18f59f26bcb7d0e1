-- A grant option that was used is revoked after what was passed on with it (Postgres
-- refused: dependent privileges exist; found by an outside attacker), and the owner grants
-- the privilege again.
-- [a]
DO $$ BEGIN CREATE ROLE f602_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f602_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f602 (id int);
grant select on f602 to f602_r2 with grant option;
set role f602_r2; grant select on f602 to f602_r1; reset role;
-- [b]
DO $$ BEGIN CREATE ROLE f602_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f602_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f602 (id int);
grant select on f602 to f602_r2;
grant select on f602 to f602_r1;
-- [hazards] authz_update
-- [sql] REVOKE GRANT OPTION FOR SELECT ON TABLE public.f602 FROM f602_r2;
