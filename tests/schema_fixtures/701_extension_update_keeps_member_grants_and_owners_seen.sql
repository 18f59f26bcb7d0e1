-- An extension's version changes and a GRANT, a REVOKE and an owner change were made on
-- members both versions have: `ALTER EXTENSION … UPDATE` sets none of them, so they are
-- reported as not modeled (the version change hid them: exit 0; found by an outside
-- attacker). The same changes with the same version were already reported (553).
-- [a]
DO $$ BEGIN CREATE ROLE f701_user; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f701_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create extension citext version '1.5';
-- [b]
DO $$ BEGIN CREATE ROLE f701_user; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f701_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create extension citext version '1.6';
revoke execute on function citext(character) from public;
grant execute on function citext(character) to f701_user;
alter function citext(boolean) owner to f701_owner;
-- [hazards] correctness
-- [sql] ALTER EXTENSION citext UPDATE TO '1.6'
-- [unsupported] not modeled by the schema engine: extension member function public.citext(character) on citext differs (privileges)
-- [unsupported] not modeled by the schema engine: extension member function public.citext(boolean) on citext differs (owner)
