-- An unlogged table becomes logged: SET LOGGED rewrites it.
-- [a]
create unlogged table cache (k text primary key, v text);
-- [b]
create table cache (k text primary key, v text);
-- [hazards] access_exclusive_lock, table_rewrite
-- [sql] SET LOGGED
