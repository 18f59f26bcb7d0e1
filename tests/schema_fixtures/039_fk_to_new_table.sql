-- A foreign key to a table that is new: the table (and its primary key) come first.
-- [a]
create table orders (id int primary key, customer_id int);
-- [b]
create table customers (id int primary key, name text);
create table orders (id int primary key, customer_id int references customers (id));
-- [hazards] share_row_exclusive_lock, correctness
