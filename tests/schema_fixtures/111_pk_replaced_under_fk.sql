-- The primary key a foreign key rests on is replaced (the FK now rests on a new UNIQUE):
-- the FK is dropped first and added again once the new key exists.
-- [a]
create table customers (id int not null, code text not null, constraint customers_pkey primary key (id));
create table orders (id int primary key, customer_id int constraint orders_customer_fk references customers (id));
-- [b]
create table customers (id int not null, code text not null, constraint customers_pkey primary key (code), constraint customers_id_key unique (id));
create table orders (id int primary key, customer_id int constraint orders_customer_fk references customers (id));
-- [hazards] index_build, correctness, access_exclusive_lock, index_dropped, share_row_exclusive_lock
