-- A serial column added to a table another role owns (the app role, the common case), and a
-- new sequence linked to one of its columns: each sequence is created with the table's owner,
-- which `OWNED BY` requires. The engine reported the serial's sequence owner as not modeled,
-- and its plan failed on `OWNED BY` after the column was added (found by an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f741_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, v int);
alter table t owner to f741_app;
insert into t values (1, 1);
-- [b]
DO $$ BEGIN CREATE ROLE f741_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, v int, s serial);
alter table t owner to f741_app;
create sequence sq;
alter sequence sq owner to f741_app;
alter sequence sq owned by t.v;
-- [hazards] access_exclusive_lock, authz_update, table_rewrite
-- [sql] CREATE SEQUENCE public.t_s_seq AS integer INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1 NO CYCLE;
-- [sql] ALTER SEQUENCE public.t_s_seq OWNER TO f741_app;
-- [sql] ALTER SEQUENCE public.sq OWNER TO f741_app;
-- [sql] ALTER SEQUENCE public.t_s_seq OWNED BY public.t.s
