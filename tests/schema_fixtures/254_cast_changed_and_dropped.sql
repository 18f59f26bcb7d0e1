-- A cast's context changes (dropped and created again) and another cast goes before its
-- function does.
-- [a]
create type mood as enum ('sad', 'happy');
create function mood_score(mood) returns int language sql immutable as $$ select case when $1 = 'happy' then 1 else 0 end $$;
create function mood_flag(mood) returns boolean language sql immutable as $$ select $1 = 'happy' $$;
create cast (mood as int) with function mood_score(mood) as assignment;
create cast (mood as boolean) with function mood_flag(mood);
-- [b]
create type mood as enum ('sad', 'happy');
create function mood_score(mood) returns int language sql immutable as $$ select case when $1 = 'happy' then 1 else 0 end $$;
create cast (mood as int) with function mood_score(mood) as implicit;
-- [hazards] untrackable_dependencies
-- [sql] DROP CAST (public.mood AS boolean)
-- [sql] DROP CAST (public.mood AS integer)
-- [sql] CREATE CAST (public.mood AS integer) WITH FUNCTION public.mood_score(public.mood) AS IMPLICIT
