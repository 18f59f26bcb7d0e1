-- int → bigint on a primary key and on the foreign key column that references it.
-- [a]
create table customers (id int primary key);
create table orders (id int primary key, customer_id int references customers (id));
insert into customers values (1);
insert into orders values (1, 1);
-- [b]
create table customers (id bigint primary key);
create table orders (id int primary key, customer_id bigint references customers (id));
-- [hazards] access_exclusive_lock, table_rewrite
