-- An operator whose commutator is only a shell in the target, where the current schema has
-- a real operator under that name: the plan dropped the real one after creating the new
-- operator, which cleared the commutator link (found by an outside attacker, e31_operator).
-- [a]
create function f294_eqf(int, text) returns bool language sql immutable as 'select $1::text = $2';
create function f294_eqf2(text, int) returns bool language sql immutable as 'select $2::text = $1';
create operator === (leftarg = int, rightarg = text, function = f294_eqf);
create operator === (leftarg = text, rightarg = int, function = f294_eqf2);
-- [b]
create function f294_eqf(int, text) returns bool language sql immutable as 'select $1::text = $2';
create function f294_eqf2(text, int) returns bool language sql immutable as 'select $2::text = $1';
create operator === (leftarg = int, rightarg = text, function = f294_eqf, commutator = ===);
-- [hazards] untrackable_dependencies
