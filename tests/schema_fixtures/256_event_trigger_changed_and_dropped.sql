-- An event trigger's tags change (dropped and created again), another is disabled, a third
-- goes before its function.
-- [a]
create function audit_ddl() returns event_trigger language plpgsql as $$ begin null; end $$;
create function audit_old() returns event_trigger language plpgsql as $$ begin null; end $$;
create event trigger audit_a on ddl_command_end when tag in ('CREATE TABLE') execute function audit_ddl();
create event trigger audit_b on ddl_command_start execute function audit_ddl();
create event trigger audit_c on ddl_command_end execute function audit_old();
-- [b]
create function audit_ddl() returns event_trigger language plpgsql as $$ begin null; end $$;
create event trigger audit_a on ddl_command_end when tag in ('CREATE TABLE', 'CREATE INDEX') execute function audit_ddl();
create event trigger audit_b on ddl_command_start execute function audit_ddl();
alter event trigger audit_b enable always;
-- [hazards] correctness, untrackable_dependencies
-- [sql] DROP EVENT TRIGGER audit_c
-- [sql] ALTER EVENT TRIGGER audit_b ENABLE ALWAYS
