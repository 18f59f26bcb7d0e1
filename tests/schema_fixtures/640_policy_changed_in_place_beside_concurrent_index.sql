-- A restrictive (tenant isolation) policy's expression changes while an index is built
-- concurrently: it is altered in place (`ALTER POLICY`), never dropped — dropped, every
-- tenant's rows would be visible for the whole build. Another policy changes its command:
-- dropped and created again, next to each other, never around the index build.
-- [a]
DO $$ BEGIN CREATE ROLE nm_640_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, tenant text, x int);
alter table t enable row level security;
create policy allow_all on t using (true);
create policy tenant_only on t as restrictive using (tenant = current_setting('app.tenant', true));
create policy writers on t as restrictive for all to nm_640_app using (true) with check (x > 0);
create policy cmd on t for select using (true);
grant select on t to nm_640_app;
-- [b]
DO $$ BEGIN CREATE ROLE nm_640_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, tenant text, x int);
alter table t enable row level security;
create policy allow_all on t using (true);
create policy tenant_only on t as restrictive using (tenant = current_setting('app.tenant_id', true));
create policy writers on t as restrictive for all to public using (true) with check (x > 1);
create policy cmd on t for update using (true);
grant select on t to nm_640_app;
create index t_x on t (x);
-- [hazards] authz_update, index_build
-- [sql] ALTER POLICY tenant_only ON public.t USING
-- [sql] ALTER POLICY writers ON public.t TO PUBLIC WITH CHECK ((x > 1))
-- [sql] CREATE INDEX CONCURRENTLY t_x
