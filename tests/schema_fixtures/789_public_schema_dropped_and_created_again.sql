-- Schema public dropped and created again with another owner and a grant: the plan changes
-- the built-in public's owner and privileges (the model has them), but the net compared the
-- built-in public (counted by its existence only) with the created one (its privileges and
-- owner): every re-diff reported it (found by an outside attacker). A public created again
-- counts by its existence only too: the catalogs agree after the plan.
-- [a]
DO $$ BEGIN CREATE ROLE f789_o; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f789_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f789_t (id int);
-- [b]
DO $$ BEGIN CREATE ROLE f789_o; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f789_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
drop schema public cascade;
create schema public authorization f789_o;
grant usage on schema public to f789_r;
create table f789_t (id int);
-- [hazards] authz_update
