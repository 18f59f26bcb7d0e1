-- An aggregate without arguments goes: `DROP AGGREGATE public.f236_cnt()` is a syntax error
-- (PostgREST's test.unsupported_agg, trial9 pgrst S → empty); it is `f236_cnt(*)`. One is
-- created too, with an owner, a comment and a grant.
-- [a]
DO $$ BEGIN CREATE ROLE f236_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create function f236_inc(state int8) returns int8 language sql as $$ select state + 1 $$;
create aggregate f236_cnt(*) (sfunc = f236_inc, stype = int8, initcond = '0');
-- [b]
DO $$ BEGIN CREATE ROLE f236_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create function f236_inc(state int8) returns int8 language sql as $$ select state + 1 $$;
create aggregate f236_new(*) (sfunc = f236_inc, stype = int8, initcond = '0');
alter aggregate f236_new(*) owner to f236_owner;
comment on aggregate f236_new(*) is 'zero arguments';
revoke all on function f236_new() from public;
grant execute on function f236_new() to f236_owner;
-- [hazards] untrackable_dependencies, authz_update
-- [sql] DROP AGGREGATE public.f236_cnt(*)
