-- A foreign key between existing tables: NOT VALID, then VALIDATE.
-- [a]
create table customers (id int primary key);
create table orders (id int primary key, customer_id int);
-- [b]
create table customers (id int primary key);
create table orders (id int primary key, customer_id int references customers (id) on delete cascade);
-- [hazards] share_row_exclusive_lock, correctness
-- [sql] NOT VALID
-- [sql] VALIDATE CONSTRAINT
