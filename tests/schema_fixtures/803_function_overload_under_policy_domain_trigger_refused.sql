-- A function replaced by a new overload with a DEFAULT argument (okf(int) → okf(int, int
-- DEFAULT 0)) while a policy, a domain CHECK and a trigger's WHEN call it by name: the plan
-- created the overload (every one-argument call then ambiguous) and failed dropping the old
-- one under its dependents, exit 0 (found by an outside attacker). Refused, naming them.
-- [a]
create function f803_okf(int) returns boolean language sql immutable as 'select $1 > 0';
create table f803_t (id int);
alter table f803_t enable row level security;
create policy p on f803_t using (f803_okf(id));
create domain f803_dd as int check (f803_okf(value));
create function f803_tr() returns trigger language plpgsql as $$begin return new; end$$;
create trigger trg before insert on f803_t for each row when (f803_okf(new.id)) execute function f803_tr();
-- [b]
create function f803_okf(int, int default 0) returns boolean language sql immutable as 'select $1 > $2';
create table f803_t (id int);
alter table f803_t enable row level security;
create policy p on f803_t using (f803_okf(id));
create domain f803_dd as int check (f803_okf(value));
create function f803_tr() returns trigger language plpgsql as $$begin return new; end$$;
create trigger trg before insert on f803_t for each row when (f803_okf(new.id)) execute function f803_tr();
-- [hazards]
-- [unsupported] function public.f803_okf(integer) is replaced by a new overload public.f803_okf(integer, integer)
-- [unsupported] policy:public.f803_t.p
-- [unsupported] trigger:public.f803_t.trg
-- [unsupported] type:public.f803_dd
