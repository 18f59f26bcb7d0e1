-- A column added to an inheritance parent reaches the child. ALTER TABLE appends it after the
-- child's own columns (Postgres cannot place it elsewhere), so B is written the same way.
-- [a]
create table vehicles (id int);
create table trucks (payload int) inherits (vehicles);
-- [b]
create table vehicles (id int);
create table trucks (payload int) inherits (vehicles);
alter table vehicles add column name text;
-- [hazards]
