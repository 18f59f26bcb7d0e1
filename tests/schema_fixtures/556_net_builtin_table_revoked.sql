-- The safety net: a REVOKE on a built-in view (pg_catalog.pg_settings from PUBLIC) is seen
-- and reported.
-- [a]
create table t (id int);
-- [b]
create table t (id int);
revoke select on pg_catalog.pg_settings from public;
-- [hazards]
-- [unsupported] not modeled by the schema engine: built-in object privileges view pg_catalog.pg_settings differs
