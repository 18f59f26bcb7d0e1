-- A view over a join that the application writes through an INSTEAD OF INSERT trigger loses
-- the trigger, the view itself unchanged: inserts through it fail ("cannot insert into view")
-- — breaks_writes on the DROP TRIGGER, from the server's own updatability. A view that stays
-- auto-updatable while its definition changes (a column added) gets nothing.
-- [a]
DO $$ BEGIN CREATE ROLE nm_152_rw; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table users_t (id bigint primary key, email text not null, org int);
create table orgs (id int primary key, name text);
create function users_ins() returns trigger language plpgsql as $$ begin insert into users_t values (new.id, new.email, null); return new; end $$;
create view users as select u.id, u.email, o.name from users_t u left join orgs o on o.id = u.org;
grant select, insert on users to nm_152_rw;
create trigger users_ins instead of insert on users for each row execute function users_ins();
create view plain as select id from users_t;
-- [b]
DO $$ BEGIN CREATE ROLE nm_152_rw; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table users_t (id bigint primary key, email text not null, org int);
create table orgs (id int primary key, name text);
create function users_ins() returns trigger language plpgsql as $$ begin insert into users_t values (new.id, new.email, null); return new; end $$;
create view users as select u.id, u.email, o.name from users_t u left join orgs o on o.id = u.org;
grant select, insert on users to nm_152_rw;
create view plain as select id, email from users_t;
-- [hazards] breaks_writes
-- [hazard-text] view public.users no longer accepts INSERT
-- [hazard-text] role nm_152_rw (granted INSERT)
-- [sql] DROP TRIGGER users_ins ON public.users
