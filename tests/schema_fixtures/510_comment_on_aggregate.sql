-- A comment on an aggregate (one with arguments, one without) is written `COMMENT ON
-- AGGREGATE` (found by an outside attacker: `COMMENT ON FUNCTION` failed to apply).
-- [a]
create table f510_t (n int);
-- [b]
create table f510_t (n int);
create aggregate f510_sum(int) (sfunc = int4pl, stype = int, initcond = '0');
comment on aggregate f510_sum(int) is 'a sum';
create aggregate f510_count(*) (sfunc = int8inc, stype = int8, initcond = '0');
comment on aggregate f510_count(*) is 'rows';
-- [hazards]
-- [sql] COMMENT ON AGGREGATE public.f510_sum(integer) IS 'a sum'
