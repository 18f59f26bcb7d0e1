-- The safety net: a function added to an extension (ALTER EXTENSION … ADD) changes the
-- extension's membership: reported.
-- [a]
create extension pg_trgm;
create function f554() returns int language sql as 'select 1';
-- [b]
create extension pg_trgm;
create function f554() returns int language sql as 'select 1';
alter extension pg_trgm add function f554();
-- [hazards] untrackable_dependencies
-- [unsupported] not modeled by the schema engine: extension member function public.f554() on pg_trgm differs (definition; only in the desired schema)
