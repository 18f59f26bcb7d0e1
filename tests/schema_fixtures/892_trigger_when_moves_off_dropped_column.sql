-- A trigger whose WHEN reads a column the plan drops, now reading another column: DROP
-- COLUMN came before the trigger's replacement and failed (attack9 F18). Rebuilt around it.
-- [a]
create table f892_t (id int primary key, legacy int, x int);
create function f892_tf() returns trigger language plpgsql as 'begin return new; end';
create trigger tr before update on f892_t for each row when (new.legacy is distinct from old.legacy) execute function f892_tf();
-- [b]
create table f892_t (id int primary key, x int);
create function f892_tf() returns trigger language plpgsql as 'begin return new; end';
create trigger tr before update on f892_t for each row when (new.x is distinct from old.x) execute function f892_tf();
-- [hazards] deletes_data, access_exclusive_lock
-- [sql] DROP TRIGGER tr ON public.f892_t
