-- A UNIQUE constraint (with INCLUDE) on an existing table, built online.
-- [a]
create table users (id int primary key, email text, name text);
-- [b]
create table users (id int primary key, email text, name text, constraint users_email_key unique (email) include (name));
-- [hazards] index_build, correctness, access_exclusive_lock
-- [sql] USING INDEX
