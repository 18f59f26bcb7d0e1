-- Functions with a SQL-standard body (BEGIN ATOMIC, RETURN) depend on the tables and columns
-- they read (pg_depend): dropped together with them, they go first — after the column and
-- the table they failed ("cannot drop column z of table t because other objects depend on
-- it"; found by an outside attacker). A function that calls one of them goes before it.
-- [a]
create table f662_t (id int, z int);
create table f662_u (id int);
create function f662_z(f662_t) returns int language sql begin atomic; select $1.z; end;
create function f662_count() returns bigint language sql begin atomic; select count(*) from f662_u; end;
create function f662_twice() returns bigint language sql return f662_count() * 2;
create view f662_v as select f662_twice() as n;
-- [b]
create table f662_t (id int);
-- [hazards] access_exclusive_lock, deletes_data, untrackable_dependencies
