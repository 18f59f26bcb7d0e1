-- A foreign table whose options alone change is altered in place (a view depends on it, so
-- it could not be dropped): plain options are set, added and dropped; an option holding a
-- secret that stays the same is kept as it is, never printed.
-- [a]
create foreign data wrapper f501_fdw;
create server f501_srv foreign data wrapper f501_fdw;
create foreign table f501_remote (
    id int options (column_name 'id'),
    email text
) server f501_srv options (table_name 'users', schema_name 'old', password 'tbl-s3cret-f501');
create view f501_v as select email from f501_remote;
-- [b]
create foreign data wrapper f501_fdw;
create server f501_srv foreign data wrapper f501_fdw;
create foreign table f501_remote (
    id int options (column_name 'user_id'),
    email text options (column_name 'mail')
) server f501_srv options (table_name 'people', password 'tbl-s3cret-f501');
create view f501_v as select email from f501_remote;
-- [hazards]
-- [sql] ALTER FOREIGN TABLE public.f501_remote OPTIONS (DROP "schema_name", SET "table_name" 'people')
-- [sql] ALTER COLUMN id OPTIONS (SET "column_name" 'user_id')
