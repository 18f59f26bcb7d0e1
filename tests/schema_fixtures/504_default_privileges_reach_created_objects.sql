-- Default privileges already in effect (database-wide and in a schema) reach the objects the
-- plan creates: a table and a function that B created before its defaults lack those grants,
-- so the plan revokes what the defaults gave them and grants back what the defaults took
-- (found by an outside attacker: the plan assumed a created object starts with no ACL, the
-- apply succeeded and the created objects had grants B does not have).
-- [a]
DO $$ BEGIN CREATE ROLE f504_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema f504;
alter default privileges grant select on tables to f504_reader;
alter default privileges revoke execute on functions from public;
alter default privileges in schema f504 grant insert on tables to f504_reader;
-- [b]
DO $$ BEGIN CREATE ROLE f504_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema f504;
create table f504.early (id int);
create function f504.early_f() returns int language sql as 'select 1';
-- (an ACL that is not NULL: one equal to the default cannot be made NULL again by a GRANT)
grant execute on function f504.early_f() to f504_reader;
alter default privileges grant select on tables to f504_reader;
alter default privileges revoke execute on functions from public;
alter default privileges in schema f504 grant insert on tables to f504_reader;
create table f504.late (id int);
create function f504.late_f() returns int language sql as 'select 2';
-- [hazards] authz_update
-- [sql] REVOKE INSERT, SELECT ON TABLE f504.early FROM f504_reader
-- [sql] GRANT EXECUTE ON FUNCTION f504.early_f() TO PUBLIC
