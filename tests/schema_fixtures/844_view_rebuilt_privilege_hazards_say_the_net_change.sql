-- A view rebuilt for a column retype whose readers change: A lets f844_old read it, B
-- f844_new. The view created again has neither, so the plan only GRANTs to f844_new — yet
-- between the two sides f844_old loses SELECT too, and the hazards say both (they say the
-- net change, not the plan's steps).
-- [a]
DO $$ BEGIN CREATE ROLE f844_old; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f844_new; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, v int);
create view v as select id, v from t;
grant select on v to f844_old;
-- [b]
DO $$ BEGIN CREATE ROLE f844_old; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f844_new; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, v bigint);
create view v as select id, v from t;
grant select on v to f844_new;
-- [hazards] access_exclusive_lock, authz_update, table_rewrite
-- [hazard-text] role f844_new gains SELECT on VIEW public.v
-- [hazard-text] role f844_old loses SELECT on VIEW public.v
