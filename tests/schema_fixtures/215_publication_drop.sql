-- a publication dropped: its subscribers stop receiving changes
-- [a]
create table t (id int primary key);
create publication p for table t;
-- [b]
create table t (id int primary key);
-- [hazards] replication
-- [sql] DROP PUBLICATION p
