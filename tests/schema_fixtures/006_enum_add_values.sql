-- Enum values added in the middle and at the end: ALTER TYPE … ADD VALUE, outside a transaction.
-- [a]
create type mood as enum ('sad', 'ok');
create table people (id int primary key, mood mood);
insert into people values (1, 'sad'), (2, 'ok');
-- [b]
create type mood as enum ('sad', 'meh', 'ok', 'happy');
create table people (id int primary key, mood mood);
-- [hazards]
-- [sql] ALTER TYPE public.mood ADD VALUE 'meh' BEFORE 'ok'
-- [sql] ALTER TYPE public.mood ADD VALUE 'happy' AFTER 'ok'
