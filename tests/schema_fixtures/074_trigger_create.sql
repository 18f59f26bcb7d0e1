-- A trigger function and a trigger on an existing table.
-- [a]
create table t (id int, updated_at timestamptz);
-- [b]
create table t (id int, updated_at timestamptz);
create function touch() returns trigger language plpgsql as $$ begin new.updated_at := now(); return new; end $$;
create trigger t_touch before update on t for each row execute function touch();
-- [hazards] correctness
-- [hazard-text] trigger function public.touch() is new or changed on public.t
