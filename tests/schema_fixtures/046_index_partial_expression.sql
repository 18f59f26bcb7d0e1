-- Partial, expression and multi-column indexes on an existing table: built concurrently.
-- [a]
create table users (id int primary key, email text, deleted_at timestamptz, org int);
-- [b]
create table users (id int primary key, email text, deleted_at timestamptz, org int);
create index users_live on users (org) where deleted_at is null;
create index users_lower_email on users (lower(email));
create index users_org_id on users (org desc, id) include (email);
-- [hazards] index_build
-- [sql] CREATE INDEX CONCURRENTLY users_live
