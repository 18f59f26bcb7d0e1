-- A new enum and a new column of it, with a default.
-- [a]
create table tickets (id int primary key);
-- [b]
create type status as enum ('open', 'closed');
create table tickets (id int primary key, status status not null default 'open');
-- [hazards]
