-- A composite type loses an attribute while table columns store the type (directly, in an
-- array, and nested in another composite type): the attribute's values go from every stored
-- row, so the plan says `deletes_data`, naming the columns (attack9 F2: no hazard at all).
-- [a]
create type f900_c as (a int, b text);
create type f900_outer as (inner_c f900_c, n int);
create table f900_t (id int primary key, v f900_c, w f900_c[], o f900_outer);
insert into f900_t values (1, row(1, 'x'), array[row(2, 'y')::f900_c], row(row(3, 'z'), 4));
-- [b]
create type f900_c as (a int);
create type f900_outer as (inner_c f900_c, n int);
create table f900_t (id int primary key, v f900_c, w f900_c[], o f900_outer);
-- [hazards] deletes_data
-- [sql] ALTER TYPE public.f900_c DROP ATTRIBUTE b;
