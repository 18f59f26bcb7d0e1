-- A server's `dbname` may be a whole connection string, password included: such a value is
-- digested like a secret, never printed (the plan printed `"dbname"
-- 'postgresql://u:…@h/db'`; found by an outside attacker). A plain database name still is.
-- [a]
create foreign data wrapper f527_fdw;
-- [b]
create foreign data wrapper f527_fdw;
create server f527_srv foreign data wrapper f527_fdw options (host 'a.internal', dbname 'postgresql://app:s3cret-f527@db.internal/app');
create server f527_kv foreign data wrapper f527_fdw options (dbname 'host=db.internal password=s3cret-f527-kv');
create server f527_plain foreign data wrapper f527_fdw options (dbname 'app');
-- [hazards]
-- [sql] CREATE SERVER f527_plain FOREIGN DATA WRAPPER f527_fdw OPTIONS ("dbname" 'app')
-- [unsupported] server f527_srv: options (dbname) differ
-- [unsupported] server f527_kv: options (dbname) differ
