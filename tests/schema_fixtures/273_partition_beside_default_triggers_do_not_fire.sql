-- Rows moved from a default partition into a new partition do not go through the
-- application's triggers: a BEFORE INSERT guard on the partitioned table raises (one that
-- returns NULL lost the rows, attack12 N6/N7/e100) and a BEFORE DELETE guard on the default
-- partition itself raises. Their states (ENABLE ALWAYS, DISABLE) are given back.
-- [a]
create function f273_guard() returns trigger language plpgsql as $$begin raise exception 'writes need app.username'; end$$;
create table f273_p (id int, k int) partition by range (k);
create table f273_p1 partition of f273_p for values from (0) to (10);
create table f273_pd partition of f273_p default;
insert into f273_p values (1, 1), (2, 15), (3, 25);
create trigger f273_ins before insert on f273_p for each row execute function f273_guard();
create trigger f273_off before insert on f273_p for each row execute function f273_guard();
alter table f273_p enable always trigger f273_ins;
alter table f273_p disable trigger f273_off;
create trigger f273_del before delete on f273_pd for each row execute function f273_guard();
-- [b]
create function f273_guard() returns trigger language plpgsql as $$begin raise exception 'writes need app.username'; end$$;
create table f273_p (id int, k int) partition by range (k);
create table f273_p1 partition of f273_p for values from (0) to (10);
create table f273_p2 partition of f273_p for values from (10) to (20);
create table f273_pd partition of f273_p default;
create trigger f273_ins before insert on f273_p for each row execute function f273_guard();
create trigger f273_off before insert on f273_p for each row execute function f273_guard();
alter table f273_p enable always trigger f273_ins;
alter table f273_p disable trigger f273_off;
create trigger f273_del before delete on f273_pd for each row execute function f273_guard();
-- [hazards] access_exclusive_lock, correctness
-- [hazard-text] triggers on public.f273_pd and public.f273_p2 do not fire for the move
