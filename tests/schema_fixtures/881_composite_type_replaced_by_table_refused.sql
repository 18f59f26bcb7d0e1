-- A composite type replaced by a table of the same name while a column stores it: the plan
-- created the table before dropping the type ("type already exists"), and the type cannot be
-- dropped under the column anyway (found by an outside attacker, attack9 F1). Refused,
-- naming the column.
-- [a]
create type f881_t as (a int, b text);
create table f881_u (id int, v f881_t);
-- [b]
create table f881_t (a int, b text);
create table f881_u (id int, v f881_t);
-- [hazards]
-- [unsupported] composite type public.f881_t is replaced by a table of the same name
-- [unsupported] col:public.f881_u.v
