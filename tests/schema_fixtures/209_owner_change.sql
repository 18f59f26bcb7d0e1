-- owners of a table, a view, a sequence and a schema change to another role; grants follow the owner
-- [a]
DO $$ BEGIN CREATE ROLE f209_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f209_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema app;
create table app.t (id int primary key);
grant select on app.t to f209_reader;
create view app.v as select id from app.t;
create sequence app.s;
-- [b]
DO $$ BEGIN CREATE ROLE f209_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f209_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema app;
create table app.t (id int primary key);
grant select on app.t to f209_reader;
create view app.v as select id from app.t;
create sequence app.s;
alter schema app owner to f209_owner;
alter table app.t owner to f209_owner;
alter view app.v owner to f209_owner;
alter sequence app.s owner to f209_owner;
-- [hazards] authz_update
-- [sql] ALTER TABLE app.t OWNER TO f209_owner
-- [sql] ALTER SCHEMA app OWNER TO f209_owner
-- [sql] ALTER VIEW app.v OWNER TO f209_owner
-- [sql] ALTER SEQUENCE app.s OWNER TO f209_owner
