-- A partition's clone of its partitioned table's trigger, disabled, while the trigger itself
-- changes (attacker F6): the trigger is created again, its clones come back enabled, and the
-- partition's clone is disabled again after it. Another clone's state changes on its own, and
-- one is set on a new partition.
-- [a]
create function f922() returns trigger language plpgsql as $$ begin return new; end $$;
create table t (id int, v int) partition by range (id);
create table t_p1 partition of t for values from (0) to (100);
create table t_p2 partition of t for values from (100) to (200);
create trigger trg before insert on t for each row when (new.v > 0) execute function f922();
create trigger trg2 before update on t for each row execute function f922();
alter table t_p1 disable trigger trg;
-- [b]
create function f922() returns trigger language plpgsql as $$ begin return new; end $$;
create table t (id int, v int) partition by range (id);
create table t_p1 partition of t for values from (0) to (100);
create table t_p2 partition of t for values from (100) to (200);
create table t_p3 partition of t for values from (200) to (300);
create trigger trg before insert on t for each row when (new.v > 1) execute function f922();
create trigger trg2 before update on t for each row execute function f922();
alter table t_p1 disable trigger trg;
alter table t_p2 enable replica trigger trg2;
alter table t_p3 enable always trigger trg2;
-- [hazards]
-- [sql] ALTER TABLE public.t_p1 DISABLE TRIGGER trg
-- [sql] ALTER TABLE public.t_p2 ENABLE REPLICA TRIGGER trg2
-- [sql] ALTER TABLE public.t_p3 ENABLE ALWAYS TRIGGER trg2
