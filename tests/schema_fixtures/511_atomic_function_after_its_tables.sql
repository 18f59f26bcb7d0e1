-- A function with a SQL-standard body (BEGIN ATOMIC, RETURN) that reads a new table is created
-- after the table, and a view over it after the function (found by an outside attacker: the
-- function came before the tables it reads and the plan failed to apply).
-- [a]
create table f511_keep (id int);
-- [b]
create table f511_keep (id int);
create table f511_t (id int primary key, v int);
create function f511_count() returns bigint language sql
begin atomic
  select count(*) from f511_t;
end;
create function f511_v(i int) returns int language sql return (select v from f511_t where id = i);
create view f511_view as select f511_count() as n;
-- [hazards]
