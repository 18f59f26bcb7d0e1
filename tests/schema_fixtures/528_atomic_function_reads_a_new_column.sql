-- A function with a SQL-standard body changed to read a column the plan adds: replaced after
-- the column exists (it was replaced before and failed with "column t.w does not exist";
-- found by an outside attacker).
-- [a]
create table f528 (id int, v int);
create function f528_f(x int) returns int language sql return x + 1;
-- [b]
create table f528 (id int, v int, w int);
create function f528_f(x int) returns int language sql return (select count(*)::int from f528 where w = x);
create view f528_v as select f528_f(1);
-- [hazards]
-- [sql] ADD COLUMN w integer
