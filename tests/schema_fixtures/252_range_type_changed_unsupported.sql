-- A range type gains a subtype_diff: a range type cannot be altered, so it is refused loudly.
-- [a]
create type floatrange as range (subtype = float8);
-- [b]
create type floatrange as range (subtype = float8, subtype_diff = float8mi);
-- [hazards]
-- [unsupported] range type public.floatrange: definition changed
