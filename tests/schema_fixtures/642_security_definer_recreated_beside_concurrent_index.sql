-- A SECURITY DEFINER function is dropped and created again (a parameter is renamed) while an
-- index is built concurrently: its owner, REVOKE FROM PUBLIC and grants follow its creation
-- in the same transaction, before the build — never executable by every role, as the role
-- running the plan, for the whole build.
-- [a]
DO $$ BEGIN CREATE ROLE nm_642_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE nm_642_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int, x int);
create function sd(a int) returns int language sql security definer as 'select a';
alter function sd(int) owner to nm_642_owner;
revoke all on function sd(int) from public;
grant execute on function sd(int) to nm_642_app;
create type mood as enum ('a', 'b');
-- [b]
DO $$ BEGIN CREATE ROLE nm_642_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE nm_642_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int, x int);
create index t_x on t (x);
create function sd(b int) returns int language sql security definer as 'select b';
alter function sd(int) owner to nm_642_owner;
revoke all on function sd(int) from public;
grant execute on function sd(int) to nm_642_app;
create function sd2(b int) returns int language sql security definer as 'select b';
alter function sd2(int) owner to nm_642_owner;
revoke all on function sd2(int) from public;
create type mood as enum ('b', 'a');
revoke usage on type mood from public;
-- [hazards] authz_update, index_build, untrackable_dependencies
-- [sql] BEGIN
-- [sql] CREATE INDEX CONCURRENTLY t_x
