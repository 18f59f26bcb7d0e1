-- An extension is created and one of its members handed to another role: CREATE EXTENSION
-- gives the member the script's owner, so the change is reported as not modeled (it was
-- explained by the new extension and lost silently; found by an outside attacker). The
-- owners the script gives are not reported.
-- [a]
DO $$ BEGIN CREATE ROLE f705_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create extension cube;
-- [b]
DO $$ BEGIN CREATE ROLE f705_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create extension cube;
create extension earthdistance;
alter function earth() owner to f705_owner;
-- [hazards]
-- [sql] CREATE EXTENSION IF NOT EXISTS earthdistance
-- [unsupported] not modeled by the schema engine: extension member function public.earth() on earthdistance differs (owner
