-- The safety net: a function a user created in pg_catalog (a schema the model skips) is seen
-- and reported as not checked, never passed over.
-- [a]
create table t (id int);
-- [b]
create table t (id int);
create function pg_catalog.f550_helper() returns int language sql as 'select 1';
-- [hazards]
-- [unsupported] not modeled by the schema engine: object in a system schema function pg_catalog.f550_helper() differs
