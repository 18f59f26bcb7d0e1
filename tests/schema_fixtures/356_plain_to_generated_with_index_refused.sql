-- A plain column becoming generated must be dropped and added again; an index on it would go
-- with it: refused, naming the column.
-- [a]
create table t (id int, v int);
create index t_v on t (v);
-- [b]
create table t (id int, v int generated always as (id * 2) stored);
create index t_v on t (v);
-- [hazards]
-- [unsupported] column public.t.v
