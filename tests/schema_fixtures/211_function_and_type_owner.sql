-- owners of a function, a procedure, an enum and a domain
-- [a]
DO $$ BEGIN CREATE ROLE f211_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create function f() returns int language sql as 'select 1';
create procedure p() language sql as 'select 1';
create type mood as enum ('ok');
create domain pos as int;
-- [b]
DO $$ BEGIN CREATE ROLE f211_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create function f() returns int language sql as 'select 1';
create procedure p() language sql as 'select 1';
create type mood as enum ('ok');
create domain pos as int;
alter function f() owner to f211_owner;
alter procedure p() owner to f211_owner;
alter type mood owner to f211_owner;
alter domain pos owner to f211_owner;
-- [hazards] authz_update
-- [sql] ALTER FUNCTION public.f() OWNER TO f211_owner
-- [sql] ALTER PROCEDURE public.p() OWNER TO f211_owner
-- [sql] ALTER TYPE public.mood OWNER TO f211_owner
-- [sql] ALTER DOMAIN public.pos OWNER TO f211_owner
