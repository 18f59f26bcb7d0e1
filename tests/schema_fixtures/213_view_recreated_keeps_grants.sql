-- a view dropped and created again (its column's type changes) gets its grants back
-- [a]
DO $$ BEGIN CREATE ROLE f213_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, n int);
create view v as select id, n from t;
grant select on v to f213_app;
-- [b]
DO $$ BEGIN CREATE ROLE f213_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, n bigint);
create view v as select id, n from t;
grant select on v to f213_app;
-- (No authz_update: the grant given again is no change between the two sides.)
-- [hazards] access_exclusive_lock, table_rewrite
-- [sql] GRANT SELECT ON TABLE public.v TO f213_app
