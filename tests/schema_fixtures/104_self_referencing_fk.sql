-- A new table with a foreign key to itself, and an existing one losing its own.
-- [a]
create table nodes (id int primary key, parent int references nodes (id));
-- [b]
create table nodes (id int primary key, parent int);
create table employees (id int primary key, manager_id int references employees (id) on delete set null);
-- [hazards]
