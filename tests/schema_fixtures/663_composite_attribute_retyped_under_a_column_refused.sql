-- A composite type's attribute changes type while a table column stores the type: Postgres
-- refuses ("cannot alter type because column uses it"). The plan said ALTER ATTRIBUTE and
-- failed (found by an outside attacker); it is now refused, naming the column. The rest of
-- the change (an added attribute) is still planned.
-- [a]
create type f663_ct as (a int, b text);
create table f663 (id int, c f663_ct);
-- [b]
create type f663_ct as (a bigint, b text, c date);
create table f663 (id int, c f663_ct);
-- [hazards]
-- [unsupported] composite type public.f663_ct: attribute a changes type (integer → bigint), but column public.f663.c stores the type
