-- A foreign key's ON DELETE action changes: dropped and added again.
-- [a]
create table customers (id int primary key);
create table orders (id int primary key, customer_id int constraint orders_customer_fk references customers (id));
-- [b]
create table customers (id int primary key);
create table orders (id int primary key, customer_id int constraint orders_customer_fk references customers (id) on delete set null);
-- [hazards] share_row_exclusive_lock, correctness
