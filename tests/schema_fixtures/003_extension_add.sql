-- A new extension, used by a new column: the extension comes first.
-- [a]
create table users (id int primary key);
-- [b]
create extension citext;
create table users (id int primary key, email citext);
-- [hazards]
-- [sql] CREATE EXTENSION IF NOT EXISTS citext
