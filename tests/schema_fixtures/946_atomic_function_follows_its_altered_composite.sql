-- A SQL-standard-body function over a composite type that b alters (an attribute added): the
-- function was replaced before the type changed, so its expanded row kept the old attributes
-- (attack F8 a_atomic_type).
-- [a]
create type f946_c as (x int);
create function f946_f(r f946_c) returns text language sql immutable begin atomic select row((r).*)::text; end;
-- [b]
create type f946_c as (x int, y int);
create function f946_f(r f946_c) returns text language sql immutable begin atomic select row((r).*)::text; end;
-- [hazards]
