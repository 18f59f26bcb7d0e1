-- A built-in function's volatility, strictness, parallel safety or cost changed (a superuser's
-- ALTER FUNCTION on pg_catalog): the net reported only a per-version digest of every built-in
-- function ("built-in functions' names, volatility, … (PostgreSQL 15) differs"), naming none.
-- Now each changed function is named with its properties on both sides.
-- [a]
create table f962_t (id int);
-- [b]
create table f962_t (id int);
alter function pg_catalog.length(text) volatile;
alter function pg_catalog.lower(text) cost 1000;
alter function pg_catalog.abs(integer) parallel unsafe;
alter function pg_catalog.upper(text) called on null input;
-- [hazards]
-- [unsupported] pg_catalog.length(text): IMMUTABLE STRICT PARALLEL SAFE COST 1 → VOLATILE STRICT PARALLEL SAFE COST 1
-- [unsupported] pg_catalog.lower(text): IMMUTABLE STRICT PARALLEL SAFE COST 1 → IMMUTABLE STRICT PARALLEL SAFE COST 1000
-- [unsupported] pg_catalog.abs(integer): IMMUTABLE STRICT PARALLEL SAFE COST 1 → IMMUTABLE STRICT PARALLEL UNSAFE COST 1
-- [unsupported] pg_catalog.upper(text): IMMUTABLE STRICT PARALLEL SAFE COST 1 → IMMUTABLE PARALLEL SAFE COST 1
