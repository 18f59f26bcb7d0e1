-- Operators (infix with commutator, negator, estimators, HASHES/MERGES; prefix) created
-- with a table whose index and a view use them: functions, operators, table, index, view.
-- [a]
select 1;
-- [b]
create function f306_eq(a int, b int) returns boolean language sql immutable as $$ select a = b $$;
create function f306_ne(a int, b int) returns boolean language sql immutable as $$ select a <> b $$;
create function f306_neg(a int) returns int language sql immutable as $$ select -a $$;
create operator === (function = f306_eq, leftarg = int, rightarg = int, commutator = ===, negator = !==,
  restrict = eqsel, join = eqjoinsel, hashes, merges);
create operator !== (function = f306_ne, leftarg = int, rightarg = int, commutator = !==, negator = ===,
  restrict = neqsel, join = neqjoinsel);
create operator ~~~ (function = f306_neg, rightarg = int);
create table t306 (a int, b int);
create index i306 on t306 ((a === b));
create view v306 as select a === b as same, ~~~ a as neg from t306;
-- [hazards]
-- [sql] CREATE OPERATOR public.=== (FUNCTION = public.f306_eq, LEFTARG = integer, RIGHTARG = integer
