-- Sequences whose `OWNED BY` changes between tables of different owners: a standalone one
-- linked to a column (it takes the table's owner first), one moved to a table of another owner
-- (unlinked, given the new owner, linked again), and a serial's made standalone with the
-- default owner again (its owner no longer follows the table).
-- [a]
DO $$ BEGIN CREATE ROLE f744_a; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f744_b; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t1 (id int, v int);
alter table t1 owner to f744_a;
create table t2 (id int);
alter table t2 owner to f744_b;
create sequence s_link;
alter sequence s_link owner to f744_b;
create sequence s_move;
alter sequence s_move owner to f744_a;
alter sequence s_move owned by t1.id;
create table t3 (id serial primary key);
alter table t3 owner to f744_a;
-- [b]
DO $$ BEGIN CREATE ROLE f744_a; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f744_b; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t1 (id int, v int);
alter table t1 owner to f744_a;
create table t2 (id int);
alter table t2 owner to f744_b;
create sequence s_link;
alter sequence s_link owner to f744_a;
alter sequence s_link owned by t1.v;
create sequence s_move;
alter sequence s_move owner to f744_b;
alter sequence s_move owned by t2.id;
create sequence t3_id_seq as integer;
create table t3 (id int primary key default nextval('t3_id_seq'));
alter table t3 owner to f744_a;
-- [hazards] authz_update
-- [sql] ALTER SEQUENCE public.s_link OWNER TO f744_a;
-- [sql] ALTER SEQUENCE public.s_move OWNED BY NONE;
-- [sql] ALTER SEQUENCE public.s_move OWNER TO f744_b;
-- [sql] ALTER SEQUENCE public.t3_id_seq OWNER TO CURRENT_USER
