-- A new schema with a table in it.
-- [a]
create table public.t (id int);
-- [b]
create table public.t (id int);
create schema sales;
create table sales.orders (id int, total numeric);
-- [hazards]
-- [sql] CREATE SCHEMA sales
