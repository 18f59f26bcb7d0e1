-- A cast, an event trigger and a publication dropped and created again (new method, event,
-- table list) keep their comments: the plan wrote none, so the comments were lost (found by an
-- outside attacker).
-- [a]
create type f812_e as enum ('a', 'b');
create function f812_e2i(f812_e) returns int language sql immutable as 'select 1';
create cast (f812_e as int) with inout;
comment on cast (f812_e as int) is 'keep the cast';
create function f812_ef() returns event_trigger language plpgsql as 'begin end';
create event trigger f812_et on ddl_command_start execute function f812_ef();
comment on event trigger f812_et is 'keep the event trigger';
create table f812_t (id int primary key);
create publication f812_pub for all tables;
comment on publication f812_pub is 'keep the publication';
-- [b]
create type f812_e as enum ('a', 'b');
create function f812_e2i(f812_e) returns int language sql immutable as 'select 1';
create cast (f812_e as int) with function f812_e2i(f812_e);
comment on cast (f812_e as int) is 'keep the cast';
create function f812_ef() returns event_trigger language plpgsql as 'begin end';
create event trigger f812_et on ddl_command_end when tag in ('CREATE TABLE') execute function f812_ef();
comment on event trigger f812_et is 'keep the event trigger';
create table f812_t (id int primary key);
create publication f812_pub for table f812_t;
comment on publication f812_pub is 'keep the publication';
-- [hazards] correctness, replication
-- [sql] COMMENT ON CAST (public.f812_e AS integer) IS 'keep the cast'
-- [sql] COMMENT ON EVENT TRIGGER f812_et IS 'keep the event trigger'
-- [sql] COMMENT ON PUBLICATION f812_pub IS 'keep the publication'
