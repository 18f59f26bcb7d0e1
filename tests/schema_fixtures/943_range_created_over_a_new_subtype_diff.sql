-- A new range type whose subtype_diff is a function the plan creates (attack F25
-- o_range_newfn): the range was created before its function.
-- [a]
create table f943_t (id int primary key);
-- [b]
create function f943_diff(float8, float8) returns float8 language sql immutable as 'select $1 - $2';
create type f943_r as range (subtype = float8, subtype_diff = f943_diff);
create table f943_t (id int primary key, span f943_r);
-- [hazards]
