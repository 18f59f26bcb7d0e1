-- A table referenced by a foreign key goes: the referencing column and its FK go first.
-- [a]
create table customers (id int primary key);
create table orders (id int primary key, customer_id int references customers (id));
-- [b]
create table orders (id int primary key);
-- [hazards] deletes_data, access_exclusive_lock
