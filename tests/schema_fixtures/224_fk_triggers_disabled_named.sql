-- DISABLE TRIGGER ALL on a table with a foreign key: its internal triggers are refused as
-- disabled in one schema, not as triggers "only in the desired schema" (trial9 P17).
-- [a]
create table f224_p (id int primary key);
create table f224_c (id int, p int references f224_p (id));
-- [b]
create table f224_p (id int primary key);
create table f224_c (id int, p int references f224_p (id));
alter table f224_c disable trigger all;
-- [hazards]
-- [unsupported] is enabled in the current schema, disabled in the desired one (ALTER TABLE … DISABLE TRIGGER ALL)
