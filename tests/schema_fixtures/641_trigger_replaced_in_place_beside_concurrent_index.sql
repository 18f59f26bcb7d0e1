-- An audit trigger's WHEN clause changes while an index is built concurrently: it is replaced
-- in place (`CREATE OR REPLACE TRIGGER`), never missing during the build; a constraint
-- trigger (which cannot be replaced) is dropped and created again next to each other.
-- [a]
create table t (id int, x int, y int);
create function audit() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger tr before insert or update on t for each row when (new.x > 0) execute function audit();
create constraint trigger ctr after insert on t for each row when (new.y > 0) execute function audit();
-- [b]
create table t (id int, x int, y int);
create function audit() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger tr before insert or update on t for each row when (new.x > 1) execute function audit();
create constraint trigger ctr after insert on t for each row when (new.y > 1) execute function audit();
create index t_x on t (x);
-- [hazards] index_build
-- [sql] CREATE OR REPLACE TRIGGER tr BEFORE INSERT OR UPDATE ON public.t
-- [sql] CREATE CONSTRAINT TRIGGER ctr
-- [sql] CREATE INDEX CONCURRENTLY t_x
