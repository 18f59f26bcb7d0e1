-- A standalone sequence owned by a column, used by its default.
-- [a]
create table invoices (id int primary key);
-- [b]
create sequence invoice_no_seq as integer increment by 10 start with 1000 cache 5;
create table invoices (id int primary key, no int default nextval('invoice_no_seq'));
alter sequence invoice_no_seq owned by invoices.no;
-- [hazards] access_exclusive_lock, table_rewrite
