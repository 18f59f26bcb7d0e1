-- Table privileges: a grant to PUBLIC revoked, one added to a role the fixture creates, one
-- of the owner's own privileges revoked, and a new table with a grant. Each is an
-- authorization change; pg_dump (with privileges) is the oracle.
-- [a]
do $$ begin create role nm_fx_reader nologin; exception when duplicate_object or unique_violation then null; end $$;
create table t (id int);
grant select on t to nm_fx_reader;
grant select on t to public;
-- [b]
do $$ begin create role nm_fx_reader nologin; exception when duplicate_object or unique_violation then null; end $$;
create table t (id int);
grant select, insert on t to nm_fx_reader;
revoke truncate on t from current_user;
create table u (id int);
grant update on u to nm_fx_reader with grant option;
-- [hazards] authz_update
-- [sql] REVOKE SELECT ON TABLE public.t FROM PUBLIC
-- [sql] GRANT INSERT ON TABLE public.t TO nm_fx_reader
-- [sql] REVOKE TRUNCATE ON TABLE public.t FROM
-- [sql] GRANT UPDATE ON TABLE public.u TO nm_fx_reader WITH GRANT OPTION
