-- A foreign data wrapper (no handler: a superuser may create one; the test cluster's role is
-- a superuser), a server with harmless options, a user mapping without options and a
-- foreign table with table and column options are created in order.
-- [a]
create table t (id int);
-- [b]
create table t (id int);
create foreign data wrapper f264_fdw;
create server f264_srv type 'pg' version '15' foreign data wrapper f264_fdw options (host 'db.internal', port '5432', dbname 'app');
create user mapping for public server f264_srv;
create foreign table remote_users (
    id int options (column_name 'user_id') not null,
    email text,
    constraint remote_users_id_check check (id > 0)
) server f264_srv options (schema_name 'app', table_name 'users');
create view remote_emails as select email from remote_users;
-- [hazards] authz_update
-- [sql] CREATE SERVER f264_srv TYPE 'pg' VERSION '15' FOREIGN DATA WRAPPER f264_fdw OPTIONS ("dbname" 'app', "host" 'db.internal', "port" '5432')
-- [sql] CREATE USER MAPPING FOR PUBLIC SERVER f264_srv
