-- A function goes (after the default that used it).
-- [a]
create function code() returns text language sql as $$ select 'x' $$;
create table t (c text default code());
-- [b]
create table t (c text);
-- [hazards] untrackable_dependencies
