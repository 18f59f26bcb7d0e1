-- A view that groups by a primary key (functional dependency): after the key exists.
-- [a]
create table customers (id int not null, name text);
create table orders (id int, customer_id int, total numeric);
-- [b]
create table customers (id int primary key, name text);
create table orders (id int, customer_id int, total numeric);
create view customer_totals as
  select c.id, c.name, sum(o.total) as total from customers c join orders o on o.customer_id = c.id group by c.id;
-- [hazards] index_build, correctness, access_exclusive_lock
