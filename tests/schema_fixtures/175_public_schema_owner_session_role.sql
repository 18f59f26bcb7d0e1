-- The public schema owned by pg_database_owner (a new PostgreSQL 15 database) and the same
-- schema owned by the role the plan runs as (a PG <= 14 dump's `ALTER SCHEMA public OWNER
-- TO postgres`), with a grant on it: two owners, and the plan says so. Both read as the
-- default owner, and the catalog fingerprint left public's owner and ACL out: the diff said
-- "no schema changes" (trial9 P1).
-- [a]
DO $$ BEGIN CREATE ROLE f175_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f175_t (id int);
-- [b]
DO $$ BEGIN CREATE ROLE f175_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f175_t (id int);
alter schema public owner to current_user;
grant create on schema public to f175_r;
-- [hazards] authz_update
-- [sql] ALTER SCHEMA public OWNER TO CURRENT_USER
-- [sql] GRANT CREATE ON SCHEMA public TO f175_r
