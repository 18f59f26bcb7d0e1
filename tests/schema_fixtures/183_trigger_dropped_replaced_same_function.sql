-- A trigger dropped while another of the same table calls the same function (a rename by drop
-- and create, or events moved): nothing stops running, no hazard.
-- [a]
create table orders (id int, total int);
create table audit_log (n int);
create function log() returns trigger language plpgsql as $$ begin insert into audit_log values (1); return new; end $$;
create trigger orders_audit after insert on orders for each row execute function log();
-- [b]
create table orders (id int, total int);
create table audit_log (n int);
create function log() returns trigger language plpgsql as $$ begin insert into audit_log values (1); return new; end $$;
create trigger orders_audit_ins_upd after insert or update on orders for each row execute function log();
-- [hazards]
