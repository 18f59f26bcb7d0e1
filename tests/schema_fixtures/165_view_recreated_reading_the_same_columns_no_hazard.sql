-- No false alarm: views granted to a role (and to PUBLIC) created again while reading the same
-- columns — one whose condition changes, one over a column retyped under it, one granted
-- column by column — and a security_invoker view that starts reading a new column (each
-- caller's own privileges apply) carry no authz_update hazard; nor does a SECURITY DEFINER
-- function nobody but its owner may call, given a new body, nor a view that starts calling a
-- function (it runs as the caller, who needs EXECUTE on it: the view hands over nothing).
-- [a]
DO $$ BEGIN CREATE ROLE nm_165_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table acct (id int primary key, name text, n int, password_hash text);
create view v_cond as select id, name from acct where id > 0;
create view v_retyped as select id, n from acct;
create view v_cols as select id, name from acct;
create view v_inv with (security_invoker = true) as select id from acct;
grant select on v_cond to nm_165_app;
grant select on v_retyped to public;
grant select (id) on v_cols to nm_165_app;
grant select on v_inv to nm_165_app;
create function private_fn(i int) returns text language sql stable security definer
  return (select name from acct where id = i);
revoke all on function private_fn(int) from public;
create function shout(t text) returns text language sql immutable as $$ select upper(t) $$;
create view v_fn as select id, name from acct;
grant select on v_fn to nm_165_app;
-- [b]
DO $$ BEGIN CREATE ROLE nm_165_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table acct (id int primary key, name text, n bigint, password_hash text);
create view v_cond as select id, name from acct where id > 1;
create view v_retyped as select id, n from acct;
create view v_cols as select id, name from acct where name <> '';
create view v_inv with (security_invoker = true) as select id, password_hash from acct;
grant select on v_cond to nm_165_app;
grant select on v_retyped to public;
grant select (id) on v_cols to nm_165_app;
grant select on v_inv to nm_165_app;
create function private_fn(i int) returns text language sql stable security definer
  return (select password_hash from acct where id = i);
revoke all on function private_fn(int) from public;
create function shout(t text) returns text language sql immutable as $$ select upper(t) $$;
create view v_fn as select id, shout(name) as name from acct;
grant select on v_fn to nm_165_app;
-- [hazards] access_exclusive_lock, table_rewrite
