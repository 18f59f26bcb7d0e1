-- A RESTRICTIVE policy and an audit trigger renamed, in a plan that builds an index
-- concurrently (attack8 F-rename-window): planned as DROP before the build and CREATE after
-- it, every role with SELECT read all tenants' rows while the build ran. They are renamed in
-- place (ALTER POLICY/TRIGGER … RENAME TO): never missing.
-- [a]
DO $$ BEGIN CREATE ROLE f840_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table docs (id int primary key, tenant text, body text);
alter table docs enable row level security;
create policy everyone on docs for select using (true);
create policy tenant_only on docs as restrictive for select using (tenant = current_user);
grant select on docs to f840_reader;
create function audit() returns trigger language plpgsql as $$begin return new; end$$;
create trigger audit_tr before update on docs for each row execute function audit();
-- [b]
DO $$ BEGIN CREATE ROLE f840_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table docs (id int primary key, tenant text, body text);
alter table docs enable row level security;
create policy everyone on docs for select using (true);
create policy tenant_isolation on docs as restrictive for select using (tenant = current_user);
grant select on docs to f840_reader;
create function audit() returns trigger language plpgsql as $$begin return new; end$$;
create trigger audit_trigger before update on docs for each row execute function audit();
create index docs_tenant on docs (tenant);
-- [hazards] index_build
-- [sql] ALTER POLICY tenant_only ON public.docs RENAME TO tenant_isolation
-- [sql] ALTER TRIGGER audit_tr ON public.docs RENAME TO audit_trigger
-- [no-sql] DROP POLICY
-- [no-sql] DROP TRIGGER
