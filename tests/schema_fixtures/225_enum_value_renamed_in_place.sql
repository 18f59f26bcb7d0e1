-- An enum label renamed (same position, the old label gone, the new one absent before) while
-- rows hold it, and a view and a CHECK use the type: planned as ALTER TYPE … RENAME VALUE,
-- the rows keep their value under its new name. It was planned as a new type with the column
-- retyped and the views dropped and created again, and refused with rows holding the label,
-- the only help given rewriting the rows (trial9 P19).
-- [a]
create type f225_rating as enum ('G', 'PG', 'NC-17', 'R');
create table f225_film (id int, rating f225_rating, constraint no_r check (rating <> 'R'));
insert into f225_film values (1, 'NC-17'), (2, 'G');
create view f225_v as select id, rating from f225_film where rating <> 'G';
-- [b]
create type f225_rating as enum ('G', 'PG', 'NC17', 'R');
create table f225_film (id int, rating f225_rating, constraint no_r check (rating <> 'R'));
create view f225_v as select id, rating from f225_film where rating <> 'G';
-- [hazards] correctness
-- [sql] ALTER TYPE public.f225_rating RENAME VALUE 'NC-17' TO 'NC17'
-- [no-sql] DROP VIEW
-- [no-sql] CREATE TYPE
