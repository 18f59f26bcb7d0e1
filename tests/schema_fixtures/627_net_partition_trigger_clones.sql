-- A partitioned table's row trigger re-created with another WHEN, and a new partition (F22):
-- the partitions' clones follow the parent's trigger; the net no longer reports them.
-- [a]
create function f627() returns trigger language plpgsql as $$begin return new; end$$;
create table pt627 (id int, k int, x int) partition by range (k);
create table pt627_1 partition of pt627 for values from (0) to (10);
create trigger tr627 before update on pt627 for each row when (new.x > 0) execute function f627();
-- [b]
create function f627() returns trigger language plpgsql as $$begin return new; end$$;
create table pt627 (id int, k int, x int) partition by range (k);
create table pt627_1 partition of pt627 for values from (0) to (10);
create table pt627_2 partition of pt627 for values from (10) to (20);
create trigger tr627 before update on pt627 for each row when (new.x > 1) execute function f627();
-- [hazards]
-- [sql] CREATE TABLE public.pt627_2 PARTITION OF public.pt627
