-- Casts are created after the functions they call: WITH FUNCTION AS ASSIGNMENT, WITH INOUT,
-- and WITHOUT FUNCTION (creating casts needs the owner of a type or a superuser).
-- [a]
create type mood as enum ('sad', 'happy');
-- [b]
create type mood as enum ('sad', 'happy');
create function mood_score(mood) returns int language sql immutable as $$ select case when $1 = 'happy' then 1 else 0 end $$;
create cast (mood as int) with function mood_score(mood) as assignment;
create cast (mood as varchar) with inout;
create cast (bytea as text) without function;
-- [hazards]
-- [sql] CREATE CAST (public.mood AS integer) WITH FUNCTION public.mood_score(public.mood) AS ASSIGNMENT
-- [sql] CREATE CAST (public.mood AS character varying) WITH INOUT
-- [sql] CREATE CAST (bytea AS text) WITHOUT FUNCTION
