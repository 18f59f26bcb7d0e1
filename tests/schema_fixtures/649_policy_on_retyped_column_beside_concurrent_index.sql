-- A column a policy and a trigger's WHEN read changes type (they must be dropped first) while
-- an index is built concurrently: the build runs after they are back, never in between.
-- [a]
create table docs (id int, owner varchar(30), x int);
alter table docs enable row level security;
create policy own on docs using (owner = current_user);
create function audit() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger tr before update on docs for each row when (new.owner <> '') execute function audit();
-- [b]
create table docs (id int, owner text, x int);
alter table docs enable row level security;
create policy own on docs using (owner = current_user);
create function audit() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger tr before update on docs for each row when (new.owner <> '') execute function audit();
create index docs_x on docs (x);
-- [hazards] access_exclusive_lock, authz_update, index_build
-- [sql] CREATE INDEX CONCURRENTLY docs_x
