-- A column with a foreign key and an index on it goes.
-- [a]
create table customers (id int primary key);
create table orders (id int primary key, customer_id int references customers (id));
create index orders_customer on orders (customer_id);
-- [b]
create table customers (id int primary key);
create table orders (id int primary key);
-- [hazards] deletes_data, access_exclusive_lock, index_dropped
