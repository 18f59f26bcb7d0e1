-- An enum goes with the only column using it.
-- [a]
create type color as enum ('red', 'green');
create table cars (id int primary key, color color);
-- [b]
create table cars (id int primary key);
-- [hazards] deletes_data, access_exclusive_lock
-- [sql] DROP TYPE public.color
