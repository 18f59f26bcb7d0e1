-- A new table using an enum that gains a value, in a new schema, with a commented constraint.
-- [a]
create type public.level as enum ('low', 'high');
-- [b]
create type public.level as enum ('low', 'mid', 'high');
create schema ops;
create table ops.alerts (id int primary key, level public.level not null default 'mid', constraint alerts_level_check check (level <> 'low'));
comment on constraint alerts_level_check on ops.alerts is 'no low alerts';
-- [hazards]
