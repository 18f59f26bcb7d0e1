-- An ordered-set aggregate's owner and privileges: `ALTER AGGREGATE` takes its `ORDER BY`
-- signature, `GRANT … ON FUNCTION` its argument types in one list. A conversion created for
-- another role is not modeled: reported, and the plan writes no `ALTER CONVERSION` for it.
-- [a]
DO $$ BEGIN CREATE ROLE f748_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f748_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create aggregate pc(float8 order by float8) (sfunc = float8pl, stype = float8);
-- [b]
DO $$ BEGIN CREATE ROLE f748_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f748_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create aggregate pc(float8 order by float8) (sfunc = float8pl, stype = float8);
alter aggregate pc(float8 order by float8) owner to f748_app;
revoke execute on function pc(float8, float8) from public;
grant execute on function pc(float8, float8) to f748_reader;
create conversion cv for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;
alter conversion cv owner to f748_app;
-- [hazards] authz_update
-- [sql] ALTER AGGREGATE public.pc(double precision ORDER BY double precision) OWNER TO f748_app
-- [sql] GRANT EXECUTE ON FUNCTION public.pc(double precision, double precision) TO f748_reader
-- [unsupported] not modeled by the schema engine: conversion public.cv differs
