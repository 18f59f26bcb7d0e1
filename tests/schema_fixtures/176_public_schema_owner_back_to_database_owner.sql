-- The other direction of fixture 175: public owned by the session's role (and another
-- role's grant on it) back to pg_database_owner, the owner a new database gives it.
-- [a]
DO $$ BEGIN CREATE ROLE f176_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f176_t (id int);
alter schema public owner to current_user;
grant usage on schema public to f176_r;
-- [b]
DO $$ BEGIN CREATE ROLE f176_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f176_t (id int);
-- [hazards] authz_update
-- [sql] ALTER SCHEMA public OWNER TO pg_database_owner
