-- public handed to another role (and PUBLIC's CREATE taken back) vs pg_database_owner's:
-- planned as ALTER SCHEMA public OWNER TO that role (trial9 P1, with a role that is not the
-- session's).
-- [a]
DO $$ BEGIN CREATE ROLE f177_o; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f177_t (id int);
-- [b]
DO $$ BEGIN CREATE ROLE f177_o; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f177_t (id int);
alter schema public owner to f177_o;
-- [hazards] authz_update
-- [sql] ALTER SCHEMA public OWNER TO f177_o
