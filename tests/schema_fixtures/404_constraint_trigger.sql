-- A constraint trigger (pg_constraint has a row for it; the trigger is what the model has).
-- [a]
create table f404_t (id int primary key);
create function f404_guard() returns trigger language plpgsql as $$ begin return new; end $$;
-- [b]
create table f404_t (id int primary key);
create function f404_guard() returns trigger language plpgsql as $$ begin return new; end $$;
create constraint trigger f404_guard after insert or update on f404_t deferrable initially deferred
  for each row execute function f404_guard();
-- [hazards]
