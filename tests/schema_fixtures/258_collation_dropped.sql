-- A collation goes with the column that used it (the column first).
-- [a]
create collation c_bytes (provider = libc, locale = 'C');
create table users (id int primary key, email text collate c_bytes);
-- [b]
create table users (id int primary key);
-- [hazards] access_exclusive_lock, deletes_data
-- [sql] DROP COLLATION public.c_bytes
