-- A table replaced by a view of the same name while a column of another table stores its row
-- type: DROP TABLE failed under the column, whose values cannot survive (attack9 F16).
-- Refused, naming the column.
-- [a]
create table f890_src (id int primary key, x int);
create table f890_t (id int, x int);
create table f890_holder (id int primary key, snap f890_t);
-- [b]
create table f890_src (id int primary key, x int);
create view f890_t as select id, x from f890_src;
create table f890_holder (id int primary key, snap f890_t);
-- [hazards]
-- [unsupported] col:public.f890_holder.snap
