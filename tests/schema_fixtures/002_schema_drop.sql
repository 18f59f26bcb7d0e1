-- A schema and the table in it go away: the table first, then the schema.
-- [a]
create schema archive;
create table archive.old_orders (id int primary key);
create table public.keep (id int);
-- [b]
create table public.keep (id int);
-- [hazards] deletes_data, access_exclusive_lock
-- [sql] DROP SCHEMA archive
