-- Overloads are distinct objects: one changes, one is added.
-- [a]
create function area(r float8) returns float8 language sql as $$ select pi() * r * r $$;
create function area(w int, h int) returns int language sql as $$ select w * h $$;
-- [b]
create function area(r float8) returns float8 language sql as $$ select 3.14159 * r * r $$;
create function area(w int, h int) returns int language sql as $$ select w * h $$;
create function area(w int, h int, d int) returns int language sql as $$ select w * h * d $$;
-- [hazards]
