-- User mapping and server options can hold passwords: their values are never printed. The
-- mapping is created without them and the options are refused loudly, naming the mapping
-- and the option names only; a server's unknown option (here `password_hint`) likewise.
-- [a]
create foreign data wrapper f265_fdw;
create server f265_srv foreign data wrapper f265_fdw options (host 'a.internal');
-- [b]
create foreign data wrapper f265_fdw;
create server f265_srv foreign data wrapper f265_fdw options (host 'a.internal', password_hint 's3cr3t-f265');
create user mapping for public server f265_srv options (user 'app', password 's3cr3t-f265');
-- [hazards] authz_update
-- [sql] CREATE USER MAPPING FOR PUBLIC SERVER f265_srv;
-- [unsupported] user mapping FOR PUBLIC SERVER f265_srv: options (password, user) differ
-- [unsupported] server f265_srv: options (password_hint) differ
