-- A function made SECURITY DEFINER and a view that loses security_invoker and security_barrier
-- change who can read what as much as a GRANT: each carries an authz_update hazard (found by an
-- outside attacker: neither had one, so `deny = ["authz_update"]` let them through).
-- [a]
create table t (id int, tenant int);
alter table t enable row level security;
create policy own on t using (tenant = 1);
create function f() returns int language sql security invoker as $$ select count(*)::int from t $$;
create view vw with (security_invoker = true, security_barrier = true) as select id from t;
-- [b]
create table t (id int, tenant int);
alter table t enable row level security;
create policy own on t using (tenant = 1);
create function f() returns int language sql security definer as $$ select count(*)::int from t $$;
create view vw as select id from t;
-- [hazards] authz_update
-- [sql] SECURITY DEFINER
-- [sql] CREATE VIEW public.vw AS
