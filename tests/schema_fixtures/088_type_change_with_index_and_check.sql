-- A type change under an index, a check and a default (dropped and restored around it).
-- [a]
create table t (id int primary key, code varchar(10) default 'x' check (code <> ''));
create index t_code on t (code);
-- [b]
create table t (id int primary key, code int default 0 check (code > 0));
create index t_code on t (code);
-- [hazards] access_exclusive_lock, table_rewrite, correctness
