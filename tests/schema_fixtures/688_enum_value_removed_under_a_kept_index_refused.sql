-- An enum loses a value while an index both sides keep names one of its values: refused
-- (the index would keep the old type), naming the index — "uses it", one blocker.
-- [a]
create type e as enum ('a', 'b', 'c');
create table t (id int primary key, s e not null default 'a');
create index t_i on t (id) where s = 'a';
-- [b]
create type e as enum ('a', 'b');
create table t (id int primary key, s e not null default 'a');
create index t_i on t (id) where s = 'a';
-- [hazards]
-- [unsupported] but index:public.t_i uses it — not supported
