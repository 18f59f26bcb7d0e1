-- A composite type's attribute changes type while a table column stores the type: Postgres
-- refuses ("cannot alter type because column uses it"). The plan said ALTER ATTRIBUTE and
-- failed (found by an outside attacker); it is now refused, naming the column. The rest of
-- the change (an added attribute) is still planned. A column that stores it inside another
-- composite type, or through a domain, blocks it as well.
-- [a]
create type f663_ct as (a int, b text);
create table f663 (id int, c f663_ct);
create type f663_inner as (a int);
create type f663_outer as (i f663_inner, n int);
create domain f663_d as f663_outer;
create table f663_deep (id int, d f663_d[]);
-- [b]
create type f663_ct as (a bigint, b text, c date);
create table f663 (id int, c f663_ct);
create type f663_inner as (a bigint);
create type f663_outer as (i f663_inner, n int);
create domain f663_d as f663_outer;
create table f663_deep (id int, d f663_d[]);
-- [hazards]
-- [unsupported] composite type public.f663_ct: attribute a changes type (integer → bigint), but column public.f663.c stores the type
-- [unsupported] composite type public.f663_inner: attribute a changes type (integer → bigint), but column public.f663_deep.d stores the type
