-- Procedures are created, changed and dropped.
-- [a]
create table log (msg text);
create procedure note(m text) language sql as $$ insert into log values (m) $$;
create procedure old_proc() language sql as $$ select 1 $$;
-- [b]
create table log (msg text);
create procedure note(m text) language sql as $$ insert into log values (upper(m)) $$;
create procedure new_proc(n int) language plpgsql as $$ begin perform n; end $$;
-- [hazards] untrackable_dependencies
