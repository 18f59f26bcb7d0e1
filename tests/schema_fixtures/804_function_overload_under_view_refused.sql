-- A function replaced by a new overload with a DEFAULT argument while a view calls it by
-- name: DROP FUNCTION failed under the view after the overload made the view's call
-- ambiguous (found by an outside attacker). Refused, naming the view.
-- [a]
create function f804_okf(int) returns boolean language sql immutable as 'select $1 > 0';
create table f804_t (id int);
create view f804_v as select id, f804_okf(id) as ok from f804_t;
-- [b]
create function f804_okf(int, int default 0) returns boolean language sql immutable as 'select $1 > $2';
create table f804_t (id int);
create view f804_v as select id, f804_okf(id) as ok from f804_t;
-- [hazards]
-- [unsupported] function public.f804_okf(integer) is replaced by a new overload public.f804_okf(integer, integer), but rel:public.f804_v call it
