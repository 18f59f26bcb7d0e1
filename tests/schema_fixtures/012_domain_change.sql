-- A domain's default, NOT NULL and checks change (the checks added NOT VALID, then validated).
-- [a]
create domain email as text constraint has_at check (value like '%@%');
create table users (id int primary key, email email);
insert into users values (1, 'a@b');
-- [b]
create domain email as text default 'nobody@example.com' not null
  constraint has_at check (value like '%_@_%')
  constraint short check (length(value) < 200);
create table users (id int primary key, email email);
-- [hazards] correctness
-- [sql] ALTER DOMAIN public.email VALIDATE CONSTRAINT short
