-- A range type's implicit objects (its constructors, its multirange type and the multirange's
-- constructors) changed on their own: a REVOKE, a cost, an owner (PostgreSQL 18 refuses a GRANT on a
-- multirange type). Neither the model
-- nor the safety net saw them (found by an outside attacker: "no schema changes"). The net now
-- has a row for each under its range type: reported.
-- [a]
DO $$ BEGIN CREATE ROLE f787_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create type f787_fr as range (subtype = float8);
-- [b]
DO $$ BEGIN CREATE ROLE f787_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create type f787_fr as range (subtype = float8);
revoke execute on function f787_fr(float8, float8, text) from public;
alter function f787_fr(float8, float8) cost 999;
alter function f787_fr_multirange(f787_fr[]) owner to f787_r;
-- [hazards]
-- [unsupported] range type part FUNCTION public.f787_fr(double precision, double precision) on public.f787_fr differs (definition)
-- [unsupported] range type part FUNCTION public.f787_fr(double precision, double precision, text) on public.f787_fr differs (privileges)
-- [unsupported] range type part FUNCTION public.f787_fr_multirange(VARIADIC public.f787_fr[]) on public.f787_fr differs (owner)
