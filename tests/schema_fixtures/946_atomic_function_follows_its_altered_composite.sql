-- SQL-standard-body functions over a composite type whose attribute b retypes (attack F8
-- a_atomic_type): Postgres refuses ALTER ATTRIBUTE … TYPE under a body that reads it, and a
-- body created before the change keeps the old type. The function that reads it is dropped
-- before the change and created again after; the new one is created after it.
-- [a]
create type f946_c as (x int, z text);
create function f946_f(r f946_c) returns text language sql immutable begin atomic select ((r).x / 2)::text; end;
-- [b]
create type f946_c as (x numeric, z text);
create function f946_f(r f946_c) returns text language sql immutable begin atomic select ((r).x / 2)::text; end;
create function f946_g(r f946_c) returns numeric language sql immutable return (r).x / 2;
-- [hazards] untrackable_dependencies
-- [sql] DROP FUNCTION public.f946_f(r public.f946_c)
