-- An enum recreated while a plain column and an array column use it.
-- [a]
create type tag as enum ('a', 'b', 'c');
create table items (id int primary key, tags tag[], main tag);
-- [b]
create type tag as enum ('c', 'b', 'a');
create table items (id int primary key, tags tag[], main tag);
-- [hazards] access_exclusive_lock, table_rewrite
