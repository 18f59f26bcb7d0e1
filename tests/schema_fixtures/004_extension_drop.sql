-- Dropping an extension drops its objects: the column using its type goes first.
-- [a]
create extension citext;
create table users (id int primary key, email citext);
-- [b]
create table users (id int primary key);
-- [hazards] deletes_data, access_exclusive_lock
-- [sql] DROP EXTENSION citext
