-- A table's owner changes to a role the fixture creates, with the privileges it had granted
-- (Postgres hands them to the new owner); an authorization change.
-- [a]
do $$ begin create role nm_fx_owner nologin; exception when duplicate_object or unique_violation then null; end $$;
do $$ begin create role nm_fx_app nologin; exception when duplicate_object or unique_violation then null; end $$;
create table t (id int);
grant select on t to nm_fx_app;
-- [b]
do $$ begin create role nm_fx_owner nologin; exception when duplicate_object or unique_violation then null; end $$;
do $$ begin create role nm_fx_app nologin; exception when duplicate_object or unique_violation then null; end $$;
create table t (id int);
grant select on t to nm_fx_app;
alter table t owner to nm_fx_owner;
-- [hazards] authz_update
-- [sql] ALTER TABLE public.t OWNER TO nm_fx_owner
