-- An enum loses a value while an index whose predicate names one of its values is dropped by
-- the same plan: the index is no blocker (dropped before the columns are retyped), the enum
-- is recreated (seen on lago-api's order_status and index_orders_on_execute_at).
-- [a]
create type e as enum ('a', 'b', 'c');
create table t (id int primary key, s e not null default 'a');
create index t_i on t (id) where s = 'a';
-- [b]
create type e as enum ('a', 'b');
create table t (id int primary key, s e not null default 'a');
-- [hazards] index_dropped, correctness, access_exclusive_lock, table_rewrite
-- [sql] CREATE TYPE public.e AS ENUM ('a', 'b')
