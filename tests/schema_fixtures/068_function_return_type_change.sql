-- A function's result type changes: dropped and recreated (callers are not tracked).
-- [a]
create function f(i int) returns int language sql as $$ select i + 1 $$;
-- [b]
create function f(i int) returns bigint language sql as $$ select i::bigint + 1 $$;
-- [hazards] untrackable_dependencies
