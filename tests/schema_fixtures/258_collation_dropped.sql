-- A collation goes with the column that used it (the column first).
-- [a]
create collation ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
create table users (id int primary key, email text collate ci);
-- [b]
create table users (id int primary key);
-- [hazards] access_exclusive_lock, deletes_data
-- [sql] DROP COLLATION public.ci
