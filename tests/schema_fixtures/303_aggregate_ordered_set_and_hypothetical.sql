-- An ordered-set aggregate (direct argument ORDER BY aggregated one, FINALFUNC_EXTRA) and a
-- hypothetical-set one over built-in support functions.
-- [a]
select 1;
-- [b]
create function f303_step(state text[], v text) returns text[] language sql immutable as $$ select coalesce(state, '{}') || v $$;
create function f303_final(state text[], sep text, v text) returns text language sql immutable as $$ select array_to_string(state, sep) $$;
create aggregate joined303(sep text order by v text) (sfunc = f303_step, stype = text[], finalfunc = f303_final, finalfunc_extra);
create aggregate rank303(variadic "any" order by variadic "any") (sfunc = ordered_set_transition_multi, stype = internal,
  finalfunc = rank_final, finalfunc_extra, hypothetical);
-- [hazards]
-- [sql] CREATE AGGREGATE public.joined303(sep text ORDER BY v text)
-- [sql] HYPOTHETICAL
