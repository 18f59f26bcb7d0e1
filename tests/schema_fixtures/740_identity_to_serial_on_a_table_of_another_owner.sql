-- An identity column that becomes a serial on a table another role owns: the new sequence
-- must have the table's owner before `OWNED BY` ("sequence must have same owner as table it
-- is linked to"). The plan failed there, after the identity was dropped (found by an outside
-- attacker); the sequence is now given the table's owner as it is created.
-- [a]
DO $$ BEGIN CREATE ROLE f740_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f740_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int generated always as identity (start 100 increment 5 cache 3) primary key, v int);
alter table t owner to f740_app;
grant select, usage on sequence t_id_seq to f740_reader;
insert into t (v) values (1), (2);
-- [b]
DO $$ BEGIN CREATE ROLE f740_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f740_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id serial primary key, v int);
alter table t owner to f740_app;
grant select, usage on sequence t_id_seq to f740_reader;
-- [hazards] access_exclusive_lock, authz_update
-- [sql] ALTER SEQUENCE public."t_id_seq_neon_migrate" OWNER TO f740_app;
-- [sql] ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id
