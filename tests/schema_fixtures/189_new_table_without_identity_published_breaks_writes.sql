-- a new table without a primary key under a schema-wide publication, and an existing keyless
-- table added to a publication: every UPDATE and DELETE of them fails (trial 8 P1)
-- [a]
create schema app;
create publication p_app for tables in schema app;
create table t (id int primary key);
create table other (n int);
create publication p_some for table t;
-- [b]
create schema app;
create publication p_app for tables in schema app;
create table t (id int primary key);
create table other (n int);
create publication p_some for table t, other;
create table app.audit_log (account_id bigint, at timestamptz default now());
create table app.keyed_log (id bigint primary key, at timestamptz);
-- [hazards] breaks_writes, replication
-- [hazard-text] table app.audit_log has no replica identity
-- [hazard-text] table public.other has no replica identity
