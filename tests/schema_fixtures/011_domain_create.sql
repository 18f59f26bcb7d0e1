-- A new domain with a default, NOT NULL and two checks, used by a new table.
-- [a]
create table t (id int);
-- [b]
create domain positive_int as int default 1 not null
  constraint positive check (value > 0)
  constraint small check (value < 1000000);
create table t (id int);
create table u (n positive_int);
-- [hazards]
