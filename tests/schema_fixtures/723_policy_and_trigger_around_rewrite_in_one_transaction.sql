-- A restrictive policy and a guard trigger that read a retyped column are dropped and created
-- again around the table rewrite, in a plan that runs statement by statement (it builds an
-- index concurrently): drop, rewrite and re-create run in one BEGIN … COMMIT — the rewrite
-- holds the table ACCESS EXCLUSIVE anyway — so no session ever sees the table without them.
-- [a]
DO $$ BEGIN CREATE ROLE f723_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, tenant int, x int);
alter table t enable row level security;
create policy allow_all on t for select using (true);
grant select on t to f723_alice;
create function deny() returns trigger language plpgsql as 'begin raise exception ''no''; end';
create policy tenant_only on t as restrictive for select to f723_alice using (tenant = 1);
create trigger no_upd before update on t for each row when (old.tenant is distinct from new.tenant) execute function deny();
insert into t values (1, 1, 1), (2, 2, 2);
-- [b]
DO $$ BEGIN CREATE ROLE f723_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, tenant bigint, x int);
alter table t enable row level security;
create policy allow_all on t for select using (true);
grant select on t to f723_alice;
create function deny() returns trigger language plpgsql as 'begin raise exception ''no''; end';
create policy tenant_only on t as restrictive for select to f723_alice using (tenant = 1);
create trigger no_upd before update on t for each row when (old.tenant is distinct from new.tenant) execute function deny();
create index ti on t (x);
-- [hazards] access_exclusive_lock, authz_update, index_build, table_rewrite
-- [sql] BEGIN
-- [sql] CREATE INDEX CONCURRENTLY ti
