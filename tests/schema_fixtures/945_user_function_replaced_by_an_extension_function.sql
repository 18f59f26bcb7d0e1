-- A user function whose signature an extension of b provides in the same schema (attack
-- ex_user2ext_fn): the extension was created while the user function still existed.
-- [a]
create function similarity(text, text) returns real language sql immutable as 'select 0.5::real';
-- [b]
create extension pg_trgm;
-- [hazards] untrackable_dependencies
-- [sql] DROP FUNCTION public.similarity(text, text)
