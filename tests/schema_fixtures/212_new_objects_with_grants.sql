-- objects created by the plan get their owner and grants after they exist
-- [a]
DO $$ BEGIN CREATE ROLE f212_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f212_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
select 1;
-- [b]
DO $$ BEGIN CREATE ROLE f212_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f212_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema app;
create table app.t (id serial primary key, note text);
grant select, insert on app.t to f212_app;
grant usage on sequence app.t_id_seq to f212_app;
grant update (note) on app.t to f212_app;
create function app.f() returns int language sql as 'select 1';
revoke execute on function app.f() from public;
alter table app.t owner to f212_owner;
grant usage on schema app to f212_app;
-- [hazards] authz_update
-- [sql] ALTER TABLE app.t OWNER TO f212_owner
