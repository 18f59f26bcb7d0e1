-- Comments added, changed and removed on many kinds of objects.
-- [a]
create schema app;
create table app.t (id int primary key, name text);
create view app.v as select id from app.t;
create function app.f() returns int language sql as $$ select 1 $$;
create type app.e as enum ('x');
comment on table app.t is 'old';
comment on column app.t.name is 'to be removed';
comment on function app.f() is 'fn';
-- [b]
create schema app;
create table app.t (id int primary key, name text);
create view app.v as select id from app.t;
create function app.f() returns int language sql as $$ select 1 $$;
create type app.e as enum ('x');
comment on schema app is 'the app';
comment on table app.t is 'new';
comment on column app.t.id is 'key';
comment on view app.v is 'a view';
comment on type app.e is 'an enum';
comment on constraint t_pkey on app.t is 'the pk';
comment on index app.t_pkey is 'pk index';
-- `public` is built in (OID 2200): its comment is read all the same.
comment on schema public is 'the public schema, described';
-- [hazards]
