-- Plain inheritance: a child table with its own column, after its parent.
-- [a]
create table z (id int);
-- [b]
create table z (id int);
create table vehicles (id int, wheels int default 4);
create table trucks (payload int) inherits (vehicles);
-- [hazards]
