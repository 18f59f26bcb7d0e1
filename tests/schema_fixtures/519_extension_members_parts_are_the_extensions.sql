-- Objects an extension's script creates belong to it, and so do their parts: a composite
-- type's attributes (tablefunc), a domain's CHECK constraints (earthdistance). They were
-- reported "not modeled" and every diff that added or dropped such an extension exited 4
-- (PostGIS and pg_partman users could never pass; found by the real-project trial).
-- [a]
create table t (id int primary key);
-- [b]
create extension tablefunc;
create extension cube;
create extension earthdistance;
create table t (id int primary key);
-- [hazards]
-- [sql] CREATE EXTENSION IF NOT EXISTS tablefunc
-- [sql] CREATE EXTENSION IF NOT EXISTS earthdistance
