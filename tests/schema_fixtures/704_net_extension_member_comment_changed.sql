-- A member of an extension has its comment changed: part of the member's definition, which
-- follows from the extension's version, so reported as not modeled rather than planned
-- (COMMENT ON a member fails for a role not owning it).
-- [a]
create extension citext;
-- [b]
create extension citext;
comment on function citext(boolean) is 'changed';
-- [hazards]
-- [no-sql] COMMENT ON
-- [unsupported] not modeled by the schema engine: extension member function public.citext(boolean) on citext differs (definition)
