-- A user trigger re-created with a WHEN condition that is always false never fires again:
-- breaks_writes.
-- [a]
create table orders (id int, total int);
create function touch() returns trigger language plpgsql as $$ begin new.total := coalesce(new.total, 0); return new; end $$;
create trigger orders_touch before insert or update on orders for each row execute function touch();
-- [b]
create table orders (id int, total int);
create function touch() returns trigger language plpgsql as $$ begin new.total := coalesce(new.total, 0); return new; end $$;
create trigger orders_touch before insert or update on orders for each row when (false) execute function touch();
-- [hazards] breaks_writes
-- [hazard-text] WHEN condition that is always false
