-- A server's harmless options are set, added and dropped, its version changes; a user
-- mapping's options are dropped (no value needed); a foreign table changes (created again:
-- it holds no rows here).
-- [a]
create foreign data wrapper f266_fdw;
create server f266_srv version '14' foreign data wrapper f266_fdw options (host 'a.internal', port '5432', fetch_size '100');
create user mapping for public server f266_srv options (user 'app');
create foreign table remote_items (id int, name text) server f266_srv options (table_name 'items');
-- [b]
create foreign data wrapper f266_fdw;
create server f266_srv version '15' foreign data wrapper f266_fdw options (host 'b.internal', dbname 'app', fetch_size '100');
create user mapping for public server f266_srv;
create foreign table remote_items (id bigint, name text, price numeric) server f266_srv options (table_name 'items_v2');
-- [hazards] correctness
-- [sql] ALTER SERVER f266_srv OPTIONS (DROP "port", ADD "dbname" 'app', SET "host" 'b.internal')
-- [sql] ALTER USER MAPPING FOR PUBLIC SERVER f266_srv OPTIONS (DROP "user")
-- [sql] DROP FOREIGN TABLE public.remote_items
