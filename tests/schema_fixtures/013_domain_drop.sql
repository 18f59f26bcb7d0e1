-- A domain goes, after the column using it changes to its base type.
-- [a]
create domain email as text check (value like '%@%');
create table users (id int primary key, email email);
-- [b]
create table users (id int primary key, email text);
-- [hazards] access_exclusive_lock
-- [sql] DROP DOMAIN public.email
