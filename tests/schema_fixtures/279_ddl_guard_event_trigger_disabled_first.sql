-- A DDL-freeze event trigger that the target disables, beside DDL it would block: the
-- disable runs first, as a drop does (attack12 N12: it came last, and the first ALTER TABLE
-- failed with "DDL is frozen").
-- [a]
create table f279_t (a int);
create function f279_guard() returns event_trigger language plpgsql as $$begin raise exception 'DDL is frozen: %', tg_tag; end$$;
create event trigger f279_freeze on ddl_command_start when tag in ('CREATE TABLE', 'ALTER TABLE', 'CREATE INDEX') execute function f279_guard();
-- [b]
create table f279_t (a int, b int);
create index f279_t_b on f279_t (b);
create function f279_guard() returns event_trigger language plpgsql as $$begin raise exception 'DDL is frozen: %', tg_tag; end$$;
create event trigger f279_freeze on ddl_command_start when tag in ('CREATE TABLE', 'ALTER TABLE', 'CREATE INDEX') execute function f279_guard();
alter event trigger f279_freeze disable;
-- [hazards] index_build
-- [sql] ALTER EVENT TRIGGER f279_freeze DISABLE
