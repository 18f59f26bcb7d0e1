-- A foreign table whose options hold a secret (an option not known to be harmless, such as a
-- password) is never created from the plan: its options would be printed. It is refused by
-- table and option name; the value appears nowhere (found by an outside attacker: the plan
-- printed `OPTIONS (password '…')` as written).
-- [a]
create foreign data wrapper f500_fdw;
create server f500_srv foreign data wrapper f500_fdw;
-- [b]
create foreign data wrapper f500_fdw;
create server f500_srv foreign data wrapper f500_fdw;
create foreign table f500_remote (
    id int options (column_name 'id', secret_token 'col-s3cret-f500'),
    email text
) server f500_srv options (table_name 'users', password 'tbl-s3cret-f500');
-- [hazards]
-- [unsupported] foreign table public.f500_remote: options (password, id.secret_token) may be secrets
