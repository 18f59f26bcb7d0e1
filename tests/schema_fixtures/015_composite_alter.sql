-- Composite attributes added, dropped and retyped.
-- [a]
create type address as (street text, city text, zip int);
-- [b]
create type address as (street text, zip text, country text);
-- [hazards]
-- [sql] ALTER TYPE public.address DROP ATTRIBUTE city
