-- An extension's version changes (ALTER EXTENSION … UPDATE): its members' differences are
-- explained by the version the plan updates, and the catalogs then agree.
-- [a]
create extension pg_trgm version '1.3';
-- [b]
create extension pg_trgm version '1.6';
-- [hazards] correctness
-- [sql] ALTER EXTENSION pg_trgm UPDATE TO '1.6'
