-- The function of an existing BEFORE … FOR EACH ROW trigger changes its body (here it returns
-- NULL: every insert is skipped, with no error). The plan cannot judge the new code
-- statically: correctness, naming the tables whose writes now run it.
-- [a]
create table orders (id int, total int);
create function touch() returns trigger language plpgsql as $$ begin new.total := coalesce(new.total, 0); return new; end $$;
create trigger orders_touch before insert or update on orders for each row execute function touch();
-- [b]
create table orders (id int, total int);
create function touch() returns trigger language plpgsql as $$ begin return null; end $$;
create trigger orders_touch before insert or update on orders for each row execute function touch();
-- [hazards] correctness
-- [hazard-text] trigger function public.touch() is new or changed on public.orders
