-- A new table with a conditional trigger and a statement-level one, using new functions.
-- [a]
create table z (id int);
-- [b]
create table z (id int);
create table audit (at timestamptz default now(), what text);
create table accounts (id int primary key, balance numeric);
create function log_big() returns trigger language plpgsql as $$ begin insert into audit (what) values ('big ' || new.id); return new; end $$;
create function log_stmt() returns trigger language plpgsql as $$ begin insert into audit (what) values (tg_op); return null; end $$;
create trigger big_change after update on accounts for each row when (new.balance > 1000) execute function log_big();
create trigger any_change after insert or delete on accounts for each statement execute function log_stmt();
-- [hazards]
