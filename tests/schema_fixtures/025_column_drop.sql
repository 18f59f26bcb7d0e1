-- A dropped column loses its data.
-- [a]
create table t (id int primary key, legacy text, keep int);
-- [b]
create table t (id int primary key, keep int);
-- [hazards] deletes_data, access_exclusive_lock
