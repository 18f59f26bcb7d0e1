-- A foreign table option holding a secret that changes is refused by name (its new value is
-- never printed); the plain option that changes beside it is still altered.
-- [a]
create foreign data wrapper f502_fdw;
create server f502_srv foreign data wrapper f502_fdw;
create foreign table f502_remote (id int) server f502_srv options (table_name 'a', password 'old-s3cret-f502');
-- [b]
create foreign data wrapper f502_fdw;
create server f502_srv foreign data wrapper f502_fdw;
create foreign table f502_remote (id int) server f502_srv options (table_name 'b', password 'new-s3cret-f502');
-- [hazards]
-- [sql] ALTER FOREIGN TABLE public.f502_remote OPTIONS (SET "table_name" 'b')
-- [unsupported] foreign table public.f502_remote: options (password) differ
