-- A new view with options, over a join.
-- [a]
create table a (id int primary key, name text);
create table b (id int primary key, a_id int, v int);
-- [b]
create table a (id int primary key, name text);
create table b (id int primary key, a_id int, v int);
create view ab with (security_barrier) as select a.name, b.v from a join b on b.a_id = a.id;
-- [hazards]
