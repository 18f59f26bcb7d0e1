-- `ALTER LANGUAGE plpgsql OWNER TO …` and `COMMENT ON LANGUAGE plpgsql` (F9): plpgsql is a
-- member of the built-in extension plpgsql, which `initdb` makes (OID below 16384); the net
-- left built-in extensions' members out, and the built-in comments' digest leaves extension
-- members out, so `diff` said "no schema changes". Now every extension's members are rows
-- (languages with their owner and privileges): reported (exit 4), as the engine cannot plan
-- it.
-- [a]
DO $$ BEGIN CREATE ROLE f964_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f964_t (id int);
-- [b]
DO $$ BEGIN CREATE ROLE f964_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f964_t (id int);
alter language plpgsql owner to f964_r;
comment on language plpgsql is 'f964';
-- [hazards]
-- [unsupported] extension member language plpgsql on plpgsql differs (definition, owner)
