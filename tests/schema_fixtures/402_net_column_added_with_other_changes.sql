-- The safety net stays quiet when the model explains every catalog difference: a column
-- added, a type changed, a default, a comment and a new table with an identity key.
-- [a]
create table t (id int primary key, code varchar(10));
-- [b]
create table t (id int primary key, code text default 'x', note text);
comment on column t.note is 'free text';
create table u (id bigint generated always as identity primary key, t_id int references t (id));
-- [hazards] access_exclusive_lock
