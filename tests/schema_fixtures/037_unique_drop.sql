-- A UNIQUE constraint goes (its index with it).
-- [a]
create table users (id int primary key, email text unique);
-- [b]
create table users (id int primary key, email text);
-- [hazards] index_dropped
