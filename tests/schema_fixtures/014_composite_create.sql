-- A composite type, and a column and a function using it.
-- [a]
create table shops (id int primary key);
-- [b]
create type address as (street text, city text, zip varchar(10));
create table shops (id int primary key, addr address);
create function city_of(a address) returns text language sql immutable as $$ select a.city $$;
-- [hazards]
