-- A user trigger dropped, with no trigger of its table calling its function any more: what it
-- did stops — correctness (a warning: dropping a trigger is a common, legitimate change).
-- [a]
create table orders (id int, total int);
create table audit_log (n int);
create function log() returns trigger language plpgsql as $$ begin insert into audit_log values (1); return new; end $$;
create trigger orders_audit after insert on orders for each row execute function log();
-- [b]
create table orders (id int, total int);
create table audit_log (n int);
create function log() returns trigger language plpgsql as $$ begin insert into audit_log values (1); return new; end $$;
-- [hazards] correctness
-- [hazard-text] is dropped and no trigger of the table calls its function (public.log()) any more
