-- A standalone sequence goes: its value is lost.
-- [a]
create sequence ticket_seq;
create table t (id int);
-- [b]
create table t (id int);
-- [hazards] deletes_data
-- [sql] DROP SEQUENCE public.ticket_seq
