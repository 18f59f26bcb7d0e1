-- A STABLE (or STRICT, IMMUTABLE…) function made SECURITY DEFINER: pg_get_functiondef prints
-- ` STABLE SECURITY DEFINER` on one line, which the check for a `\n SECURITY DEFINER\n` line
-- missed — no authz_update although every caller now runs it with its owner's privileges.
-- [a]
create table t (id int, secret text);
create function f() returns bigint language sql stable as $$ select count(*) from t $$;
-- [b]
create table t (id int, secret text);
create function f() returns bigint language sql stable security definer as $$ select count(*) from t $$;
-- [hazards] authz_update
-- [hazard-text] becomes SECURITY DEFINER
