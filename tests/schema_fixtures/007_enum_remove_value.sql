-- Removing an enum value: the type is recreated and the column converted through text.
-- [a]
create type mood as enum ('sad', 'meh', 'ok');
create table people (id int primary key, mood mood);
insert into people values (1, 'sad'), (2, 'ok');
-- [b]
create type mood as enum ('sad', 'ok');
create table people (id int primary key, mood mood);
-- [hazards] access_exclusive_lock, table_rewrite, correctness
