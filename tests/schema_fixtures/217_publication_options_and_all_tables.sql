-- publish options change; a table-list publication becomes FOR ALL TABLES
-- [a]
create table t (id int primary key);
create publication p_opts for table t;
create publication p_grow for table t;
-- [b]
create table t (id int primary key);
create publication p_opts for table t with (publish = 'insert', publish_via_partition_root = true);
create publication p_grow for all tables;
-- [hazards] replication
-- [sql] ALTER PUBLICATION p_opts SET (publish = 'insert', publish_via_partition_root = true)
-- [sql] CREATE PUBLICATION p_grow FOR ALL TABLES
