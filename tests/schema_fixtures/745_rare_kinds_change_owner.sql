-- Owners of aggregates (and their privileges), operators (infix and prefix), collations, text
-- search configurations and dictionaries, range types (and their privileges), conversions and
-- extended statistics change: each is an `ALTER <kind> … OWNER TO` (they were refused as not
-- modeled, found by an outside attacker). An aggregate without arguments is `cnt(*)`.
-- [a]
DO $$ BEGIN CREATE ROLE f745_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f745_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table tt (id int, v int);
create function addi(int, int) returns int language sql immutable as 'select $1 + $2';
create aggregate sm(int) (sfunc = addi, stype = int, initcond = '0');
create aggregate cnt(*) (sfunc = int8inc, stype = bigint, initcond = '0');
create operator ### (leftarg = int, rightarg = int, function = addi);
create operator !!! (rightarg = int, function = abs);
create collation coll (provider = libc, locale = 'C');
create text search configuration tsc (copy = simple);
create text search dictionary tsd (template = simple);
create type rng as range (subtype = float8);
create conversion cv for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;
create statistics stt on id, v from tt;
-- [b]
DO $$ BEGIN CREATE ROLE f745_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f745_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table tt (id int, v int);
create function addi(int, int) returns int language sql immutable as 'select $1 + $2';
create aggregate sm(int) (sfunc = addi, stype = int, initcond = '0');
create aggregate cnt(*) (sfunc = int8inc, stype = bigint, initcond = '0');
create operator ### (leftarg = int, rightarg = int, function = addi);
create operator !!! (rightarg = int, function = abs);
create collation coll (provider = libc, locale = 'C');
create text search configuration tsc (copy = simple);
create text search dictionary tsd (template = simple);
create type rng as range (subtype = float8);
create conversion cv for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;
create statistics stt on id, v from tt;
alter aggregate sm(int) owner to f745_app;
alter aggregate cnt(*) owner to f745_app;
alter operator ###(int, int) owner to f745_app;
alter operator !!!(none, int) owner to f745_app;
alter collation coll owner to f745_app;
alter text search configuration tsc owner to f745_app;
alter text search dictionary tsd owner to f745_app;
alter type rng owner to f745_app;
grant usage on type rng to f745_reader;
alter conversion cv owner to f745_app;
alter statistics stt owner to f745_app;
revoke execute on function sm(int) from public;
grant execute on function sm(int) to f745_reader;
-- [hazards] authz_update
-- [sql] ALTER AGGREGATE public.sm(integer) OWNER TO f745_app
-- [sql] ALTER AGGREGATE public.cnt(*) OWNER TO f745_app
-- [sql] ALTER OPERATOR public.###(integer, integer) OWNER TO f745_app
-- [sql] ALTER OPERATOR public.!!!(NONE, integer) OWNER TO f745_app
-- [sql] ALTER COLLATION public.coll OWNER TO f745_app
-- [sql] ALTER TEXT SEARCH CONFIGURATION public.tsc OWNER TO f745_app
-- [sql] ALTER TEXT SEARCH DICTIONARY public.tsd OWNER TO f745_app
-- [sql] ALTER TYPE public.rng OWNER TO f745_app
-- [sql] GRANT USAGE ON TYPE public.rng TO f745_reader
-- [sql] ALTER CONVERSION public.cv OWNER TO f745_app
-- [sql] ALTER STATISTICS public.stt OWNER TO f745_app
-- [sql] REVOKE EXECUTE ON FUNCTION public.sm(integer) FROM PUBLIC
