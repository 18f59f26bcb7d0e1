-- An event trigger is created after its function (event triggers need a superuser: the
-- test cluster's role is one).
-- [a]
create table t (id int);
-- [b]
create table t (id int);
create function audit_ddl() returns event_trigger language plpgsql as $$ begin null; end $$;
create event trigger audit_ddl_end on ddl_command_end when tag in ('CREATE TABLE', 'ALTER TABLE') execute function audit_ddl();
create event trigger audit_ddl_off on sql_drop execute function audit_ddl();
alter event trigger audit_ddl_off disable;
-- [hazards] correctness
-- [sql] CREATE EVENT TRIGGER audit_ddl_end ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION public.audit_ddl()
-- [sql] ALTER EVENT TRIGGER audit_ddl_off DISABLE
