-- grants on a view and a materialized view
-- [a]
DO $$ BEGIN CREATE ROLE f207_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key);
create view v as select id from t;
create materialized view m as select id from t;
grant select on v to f207_app;
-- [b]
DO $$ BEGIN CREATE ROLE f207_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key);
create view v as select id from t;
create materialized view m as select id from t;
grant select on m to f207_app;
-- [hazards] authz_update
-- [sql] REVOKE SELECT ON TABLE public.v FROM f207_app
-- [sql] GRANT SELECT ON TABLE public.m TO f207_app
