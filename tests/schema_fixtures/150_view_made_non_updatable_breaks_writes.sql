-- A simple view the application writes through (INSERT/UPDATE/DELETE granted to a role) is
-- re-created with DISTINCT (attack11 A10): Postgres no longer updates it automatically, so
-- every write through it fails ("Views containing DISTINCT are not automatically
-- updatable"). The server's pg_relation_is_updatable on both sides says so: breaks_writes,
-- naming the view and the role. A second view, only read, re-created with a join: it was
-- auto-updatable too, the owner's writes through it fail — also breaks_writes.
-- [a]
DO $$ BEGIN CREATE ROLE nm_150_rw; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table users_t (id bigint primary key, email text not null, active bool not null default true);
create table orgs (id int primary key, name text);
create view users as select id, email, active from users_t;
grant select, insert, update, delete on users to nm_150_rw;
create view users_ro as select id, email from users_t;
-- [b]
DO $$ BEGIN CREATE ROLE nm_150_rw; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table users_t (id bigint primary key, email text not null, active bool not null default true);
create table orgs (id int primary key, name text);
create view users as select distinct id, email, active from users_t;
grant select, insert, update, delete on users to nm_150_rw;
create view users_ro as select u.id, u.email from users_t u cross join orgs o;
-- [hazards] breaks_writes
-- [hazard-text] view public.users no longer accepts INSERT, UPDATE, DELETE
-- [hazard-text] role nm_150_rw (granted INSERT, UPDATE, DELETE)
-- [hazard-text] view public.users_ro no longer accepts INSERT, UPDATE, DELETE
