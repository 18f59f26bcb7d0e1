-- publications created: for a table, for all tables, for tables in a schema, with publish options
-- [a]
create schema app;
create table t (id int primary key, note text);
create table app.u (id int primary key);
-- [b]
create schema app;
create table t (id int primary key, note text);
create table app.u (id int primary key);
create publication p_tables for table t;
create publication p_all for all tables with (publish = 'insert, update');
create publication p_schema for tables in schema app;
-- [hazards] replication
-- [sql] CREATE PUBLICATION p_tables FOR TABLE public.t
-- [sql] CREATE PUBLICATION p_all FOR ALL TABLES WITH (publish = 'insert, update'
