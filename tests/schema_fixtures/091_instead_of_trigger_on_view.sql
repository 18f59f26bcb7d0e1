-- An INSTEAD OF trigger on a view that is recreated keeps existing.
-- [a]
create table t (id int, v int);
create view v as select id, v from t;
create function v_ins() returns trigger language plpgsql as $$ begin insert into t values (new.id, new.v); return new; end $$;
create trigger v_ins instead of insert on v for each row execute function v_ins();
-- [b]
create table t (id int, v int, w int);
create view v as select id, v, w from t;
create function v_ins() returns trigger language plpgsql as $$ begin insert into t values (new.id, new.v); return new; end $$;
create trigger v_ins instead of insert on v for each row execute function v_ins();
-- [hazards]
