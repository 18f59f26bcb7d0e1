-- A RESTRICTIVE policy and an audit trigger replaced by others of other names (renamed and
-- changed), in a plan that builds an index concurrently: the old ones are dropped and the
-- new ones created in one BEGIN … COMMIT, before the build — the table is never without
-- either.
-- [a]
DO $$ BEGIN CREATE ROLE f841_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table docs (id int primary key, tenant text, body text);
alter table docs enable row level security;
create policy everyone on docs for select using (true);
create policy tenant_only on docs as restrictive for select using (tenant = current_user);
grant select on docs to f841_reader;
create function audit() returns trigger language plpgsql as $$begin return new; end$$;
create trigger audit_tr before update on docs for each row execute function audit();
-- [b]
DO $$ BEGIN CREATE ROLE f841_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table docs (id int primary key, tenant text, body text);
alter table docs enable row level security;
create policy everyone on docs for select using (true);
create policy tenant_isolation on docs as restrictive for select using (tenant = session_user);
grant select on docs to f841_reader;
create function audit() returns trigger language plpgsql as $$begin return new; end$$;
create trigger audit_trigger before insert or update on docs for each row execute function audit();
create index docs_tenant on docs (tenant);
-- [hazards] authz_update, index_build
-- [sql] BEGIN
