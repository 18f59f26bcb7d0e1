-- Plain and constant-default columns are added without a rewrite.
-- [a]
create table t (id int primary key);
insert into t values (1);
-- [b]
create table t (id int primary key, note text, n int default 0 not null, at timestamptz default now());
-- [hazards]
