-- `ALTER … DEPENDS ON EXTENSION` (function, index, trigger, materialized view) decides what
-- `DROP EXTENSION` takes along. The model does not carry it: reported, never "no changes"
-- (attack12 N9: pg_depend rows of type 'x' were read by nothing).
-- [a]
create table t (a int);
create index i on t (a);
create function f() returns int language sql as 'select 1';
create function tf() returns trigger language plpgsql as $$begin return new; end$$;
create trigger tr before insert on t for each row execute function tf();
create materialized view mv as select 1 as x;
-- [b]
create table t (a int);
create index i on t (a);
create function f() returns int language sql as 'select 1';
create function tf() returns trigger language plpgsql as $$begin return new; end$$;
create trigger tr before insert on t for each row execute function tf();
create materialized view mv as select 1 as x;
alter function f() depends on extension plpgsql;
alter index i depends on extension plpgsql;
alter trigger tr on t depends on extension plpgsql;
alter materialized view mv depends on extension plpgsql;
-- [hazards]
-- [unsupported] extension dependency function public.f() DEPENDS ON EXTENSION plpgsql
-- [unsupported] extension dependency index public.i DEPENDS ON EXTENSION plpgsql
-- [unsupported] extension dependency trigger tr on public.t DEPENDS ON EXTENSION plpgsql
-- [unsupported] extension dependency materialized view public.mv DEPENDS ON EXTENSION plpgsql
