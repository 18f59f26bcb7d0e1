-- A trigger's events change, another is disabled, a third goes.
-- [a]
create table t (id int, updated_at timestamptz);
create function touch() returns trigger language plpgsql as $$ begin new.updated_at := now(); return new; end $$;
create trigger t_touch before update on t for each row execute function touch();
create trigger t_touch2 before update on t for each row execute function touch();
create trigger t_gone before insert on t for each row execute function touch();
-- [b]
create table t (id int, updated_at timestamptz);
create function touch() returns trigger language plpgsql as $$ begin new.updated_at := now(); return new; end $$;
create trigger t_touch before insert or update on t for each row execute function touch();
create trigger t_touch2 before update on t for each row execute function touch();
alter table t disable trigger t_touch2;
-- [hazards] breaks_writes
-- [hazard-text] is disabled: what it writes or enforces
