-- A foreign table's comment, a comment on its column, grants (table and column) and owner:
-- COMMENT ON FOREIGN TABLE (COMMENT ON TABLE fails: "is not a table"), GRANT … ON TABLE,
-- ALTER FOREIGN TABLE … OWNER TO. They were refused as "not modeled", and the plan still
-- wrote the failing COMMENT ON TABLE (trial9 P13). One table kept, one created.
-- [a]
DO $$ BEGIN CREATE ROLE f179_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f179_o; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create foreign data wrapper f179_fdw;
create server f179_srv foreign data wrapper f179_fdw;
create foreign table f179_kept (id int, name text) server f179_srv;
comment on foreign table f179_kept is 'old';
grant select on f179_kept to f179_r;
-- [b]
DO $$ BEGIN CREATE ROLE f179_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f179_o; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create foreign data wrapper f179_fdw;
create server f179_srv foreign data wrapper f179_fdw;
create foreign table f179_kept (id int, name text) server f179_srv;
comment on foreign table f179_kept is 'A temporary projects dump';
comment on column f179_kept.name is 'its name';
grant insert on f179_kept to f179_r;
alter foreign table f179_kept owner to f179_o;
create foreign table f179_new (id int) server f179_srv;
comment on foreign table f179_new is 'new';
grant select on f179_new to f179_r;
-- [hazards] authz_update
-- [sql] COMMENT ON FOREIGN TABLE public.f179_kept IS 'A temporary projects dump'
-- [sql] COMMENT ON FOREIGN TABLE public.f179_new IS 'new'
-- [sql] ALTER FOREIGN TABLE public.f179_kept OWNER TO f179_o
-- [sql] GRANT SELECT ON TABLE public.f179_new TO f179_r
