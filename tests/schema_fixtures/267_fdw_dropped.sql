-- A foreign table, a user mapping, a server and a wrapper go, in that order.
-- [a]
create foreign data wrapper f267_fdw;
create server f267_srv foreign data wrapper f267_fdw;
create user mapping for public server f267_srv;
create foreign table remote_items (id int) server f267_srv;
create table t (id int);
-- [b]
create table t (id int);
-- [hazards] authz_update
-- [sql] DROP FOREIGN DATA WRAPPER f267_fdw
