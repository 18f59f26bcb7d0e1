-- A view a role writes through gains WITH CHECK OPTION (attack11 A10, c42_view_writes_3):
-- an INSERT or UPDATE of an inactive row now fails ("new row violates check option") —
-- breaks_writes naming the role. LOCAL → CASCADED on another view too.
-- [a]
DO $$ BEGIN CREATE ROLE nm_151_rw; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table users_t (id bigint primary key, email text not null, active bool not null default true);
create view users as select id, email, active from users_t;
grant select, insert, update, delete on users to nm_151_rw;
create view active_users as select id, email, active from users_t where active;
create view recent_users as select id, email, active from active_users where id > 100 with local check option;
-- [b]
DO $$ BEGIN CREATE ROLE nm_151_rw; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table users_t (id bigint primary key, email text not null, active bool not null default true);
create view users as select id, email, active from users_t where active with check option;
grant select, insert, update, delete on users to nm_151_rw;
create view active_users as select id, email, active from users_t where active;
create view recent_users as select id, email, active from active_users where id > 100 with cascaded check option;
-- [hazards] breaks_writes
-- [hazard-text] view public.users gains WITH CASCADED CHECK OPTION
-- [hazard-text] role nm_151_rw (granted INSERT, UPDATE)
-- [hazard-text] view public.recent_users gains WITH CASCADED CHECK OPTION
