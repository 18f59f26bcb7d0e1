-- An extension moved to another schema (F25): a column of its type follows it (same type),
-- so no ALTER COLUMN … TYPE (an ACCESS EXCLUSIVE no-op with a rewrite hazard) is planned;
-- and an extension both updated and moved gets both statements (the move was left out).
-- [a]
create extension citext;
create extension pg_trgm version '1.5';
create table t628 (id int, c citext, cs citext[]);
-- [b]
create schema ext628;
create extension citext schema ext628;
create extension pg_trgm version '1.6' schema ext628;
create table t628 (id int, c ext628.citext, cs ext628.citext[]);
-- [hazards] correctness
-- [sql] ALTER EXTENSION citext SET SCHEMA ext628
-- [sql] ALTER EXTENSION pg_trgm SET SCHEMA ext628
