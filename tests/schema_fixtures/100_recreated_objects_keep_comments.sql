-- Objects dropped and created again get their (unchanged) comments back.
-- [a]
create type size as enum ('s', 'l', 'm');
create table t (id int, n int, sz size);
create index t_n on t (n);
alter table t add constraint n_pos check (n > 0);
create function f() returns int language sql as $$ select 1 $$;
create view v as select id from t;
comment on type size is 'sizes';
comment on index t_n is 'by n';
comment on constraint n_pos on t is 'positive';
comment on function f() is 'one';
comment on view v is 'ids';
comment on column v.id is 'the id';
-- [b]
create type size as enum ('s', 'm', 'l');
create table t (id bigint, n int, sz size);
create index t_n on t (n, id);
alter table t add constraint n_pos check (n >= 0);
create function f() returns bigint language sql as $$ select 1::bigint $$;
create view v as select id from t;
comment on type size is 'sizes';
comment on index t_n is 'by n';
comment on constraint n_pos on t is 'positive';
comment on function f() is 'one';
comment on view v is 'ids';
comment on column v.id is 'the id';
-- [hazards] access_exclusive_lock, table_rewrite, correctness, index_build, index_dropped, untrackable_dependencies
