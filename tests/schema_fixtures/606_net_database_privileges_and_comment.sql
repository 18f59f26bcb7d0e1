-- The safety net: the database's own privileges (GRANT CREATE lets a role create schemas,
-- REVOKE CONNECT FROM PUBLIC) and comment are seen and reported, compared by content (the two
-- sides are different databases); they said "no schema changes" (found by an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f606_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f606 (id int);
-- [b]
DO $$ BEGIN CREATE ROLE f606_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f606 (id int);
DO $$ BEGIN
  EXECUTE format('GRANT CREATE, TEMPORARY ON DATABASE %I TO f606_r1 WITH GRANT OPTION', current_database());
  EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('COMMENT ON DATABASE %I IS %L', current_database(), 'f606');
END $$;
-- [hazards]
-- [unsupported] not modeled by the schema engine: database (this database) differs (definition, privileges)
