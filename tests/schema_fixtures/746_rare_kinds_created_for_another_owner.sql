-- Aggregates, operators, collations, text search objects, range types and extended statistics
-- created for another role: each is created, then given its owner and privileges.
-- [a]
DO $$ BEGIN CREATE ROLE f746_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f746_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table tt (id int, v int);
create function addi(int, int) returns int language sql immutable as 'select $1 + $2';
-- [b]
DO $$ BEGIN CREATE ROLE f746_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f746_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table tt (id int, v int);
create function addi(int, int) returns int language sql immutable as 'select $1 + $2';
create aggregate sm(int) (sfunc = addi, stype = int, initcond = '0');
create operator ### (leftarg = int, rightarg = int, function = addi);
create collation coll (provider = libc, locale = 'C');
create text search configuration tsc (copy = simple);
create text search dictionary tsd (template = simple);
create type rng as range (subtype = float8);
create statistics stt on id, v from tt;
alter aggregate sm(int) owner to f746_app;
alter operator ###(int, int) owner to f746_app;
alter collation coll owner to f746_app;
alter text search configuration tsc owner to f746_app;
alter text search dictionary tsd owner to f746_app;
alter type rng owner to f746_app;
grant usage on type rng to f746_reader;
alter statistics stt owner to f746_app;
revoke execute on function sm(int) from public;
grant execute on function sm(int) to f746_reader;
-- [hazards] authz_update
-- [sql] ALTER AGGREGATE public.sm(integer) OWNER TO f746_app
-- [sql] ALTER STATISTICS public.stt OWNER TO f746_app
-- [sql] GRANT EXECUTE ON FUNCTION public.sm(integer) TO f746_reader
