-- A user trigger set to fire only in replica sessions (ENABLE REPLICA TRIGGER) never runs on
-- the application's writes again, like DISABLE TRIGGER: breaks_writes. ENABLE ALWAYS still
-- fires for ordinary sessions: no hazard for it.
-- [a]
create table orders (id int, total int);
create function touch() returns trigger language plpgsql as $$ begin new.total := coalesce(new.total, 0); return new; end $$;
create trigger orders_touch before insert or update on orders for each row execute function touch();
create trigger orders_touch2 before insert on orders for each row execute function touch();
-- [b]
create table orders (id int, total int);
create function touch() returns trigger language plpgsql as $$ begin new.total := coalesce(new.total, 0); return new; end $$;
create trigger orders_touch before insert or update on orders for each row execute function touch();
create trigger orders_touch2 before insert on orders for each row execute function touch();
alter table orders enable replica trigger orders_touch;
alter table orders enable always trigger orders_touch2;
-- [hazards] breaks_writes
-- [hazard-text] is set to fire only in replica sessions
