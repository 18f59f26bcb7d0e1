-- Widening varchar is binary coercible: a lock but no rewrite.
-- [a]
create table t (id int primary key, name varchar(20), code varchar(5));
-- [b]
create table t (id int primary key, name varchar(200), code text);
-- [hazards] access_exclusive_lock
