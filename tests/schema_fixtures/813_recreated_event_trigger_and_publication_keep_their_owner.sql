-- An event trigger and a publication owned by another role, dropped and created again: they
-- kept the plan's role as owner (found by an outside attacker). An event trigger's owner must
-- be a superuser.
-- [a]
DO $$ BEGIN CREATE ROLE f813_alice SUPERUSER; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f813_t (id int primary key);
create publication f813_pub for all tables;
alter publication f813_pub owner to f813_alice;
create function f813_ef() returns event_trigger language plpgsql as 'begin end';
create event trigger f813_et on ddl_command_start execute function f813_ef();
alter event trigger f813_et owner to f813_alice;
-- [b]
DO $$ BEGIN CREATE ROLE f813_alice SUPERUSER; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f813_t (id int primary key);
create publication f813_pub for table f813_t;
alter publication f813_pub owner to f813_alice;
create function f813_ef() returns event_trigger language plpgsql as 'begin end';
create event trigger f813_et on ddl_command_end execute function f813_ef();
alter event trigger f813_et owner to f813_alice;
-- [hazards] authz_update, correctness, replication
-- [sql] ALTER EVENT TRIGGER f813_et OWNER TO f813_alice
-- [sql] ALTER PUBLICATION f813_pub OWNER TO f813_alice
