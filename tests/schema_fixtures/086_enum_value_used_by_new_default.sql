-- A new enum value is used by a new default and a new check in the same plan.
-- [a]
create type status as enum ('open', 'closed');
create table tickets (id int primary key, status status);
-- [b]
create type status as enum ('new', 'open', 'closed');
create table tickets (id int primary key, status status default 'new' check (status <> 'new' or id > 0));
-- [hazards] access_exclusive_lock, correctness
