-- A column used in a trigger's WHEN clause changes type: the trigger is recreated around it.
-- [a]
create table accounts (id int primary key, balance int);
create function noop() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger big after update on accounts for each row when (new.balance > 1000) execute function noop();
-- [b]
create table accounts (id int primary key, balance bigint);
create function noop() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger big after update on accounts for each row when (new.balance > 1000) execute function noop();
-- [hazards] access_exclusive_lock, table_rewrite
