-- Aggregates, operators, collations and extended statistics the plan drops and creates again
-- (their definition changes) get their owner and comment back; comments on operators, text
-- search objects and statistics are set, changed and removed (a recreated object's owner and
-- comment were lost, and those comments were not modeled).
-- [a]
DO $$ BEGIN CREATE ROLE f747_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table tt (id int, v int, w int);
create function addi(int, int) returns int language sql immutable as 'select $1 + $2';
create function addb(bigint, int) returns bigint language sql immutable as 'select $1 + $2';
create aggregate sm(int) (sfunc = addi, stype = int, initcond = '0');
create operator ### (leftarg = int, rightarg = int, function = addi);
create operator !!! (rightarg = int, function = abs);
create collation coll (provider = libc, locale = 'C');
create text search dictionary tsd (template = simple);
create text search configuration tsc (copy = simple);
create statistics stt on id, v from tt;
create statistics st2 on id, w from tt;
alter aggregate sm(int) owner to f747_app;
alter operator ###(int, int) owner to f747_app;
alter collation coll owner to f747_app;
alter statistics stt owner to f747_app;
comment on aggregate sm(int) is 'agg';
comment on operator ###(int, int) is 'op';
comment on operator !!!(none, int) is 'prefix';
comment on collation coll is 'coll';
comment on statistics stt is 'stats';
comment on statistics st2 is 'gone';
-- [b]
DO $$ BEGIN CREATE ROLE f747_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table tt (id int, v int, w int);
create function addi(int, int) returns int language sql immutable as 'select $1 + $2';
create function addb(bigint, int) returns bigint language sql immutable as 'select $1 + $2';
create aggregate sm(int) (sfunc = addb, stype = bigint, initcond = '0');
create operator ### (leftarg = int, rightarg = int, function = addi, commutator = ###);
create operator !!! (rightarg = int, function = abs);
create collation coll (provider = libc, locale = 'POSIX');
create text search dictionary tsd (template = simple);
create text search configuration tsc (copy = simple);
create statistics stt on id, w from tt;
create statistics st2 on id, w from tt;
alter aggregate sm(int) owner to f747_app;
alter operator ###(int, int) owner to f747_app;
alter collation coll owner to f747_app;
alter statistics stt owner to f747_app;
comment on aggregate sm(int) is 'agg';
comment on operator ###(int, int) is 'op';
comment on operator !!!(none, int) is 'prefix, changed';
comment on collation coll is 'coll';
comment on statistics stt is 'stats';
comment on text search dictionary tsd is 'dict';
comment on text search configuration tsc is 'cfg';
-- [hazards] authz_update, untrackable_dependencies
-- [sql] ALTER COLLATION public.coll OWNER TO f747_app
-- [sql] COMMENT ON COLLATION public.coll IS 'coll'
-- [sql] ALTER OPERATOR public.###(integer, integer) OWNER TO f747_app
-- [sql] COMMENT ON STATISTICS public.st2 IS NULL
