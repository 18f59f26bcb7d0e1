-- A unique index (not a constraint) on an existing table, NULLS NOT DISTINCT.
-- [a]
create table users (id int primary key, email text);
-- [b]
create table users (id int primary key, email text);
create unique index users_email on users (email) nulls not distinct;
-- [hazards] index_build
