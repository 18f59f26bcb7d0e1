-- A range type's implicit objects have rows of their own in the safety net (787): created or
-- dropped with their range type, they are explained (no false report).
-- [a]
create type f788_gone as range (subtype = int4);
create type f788_kept as range (subtype = float8);
-- [b]
create type f788_kept as range (subtype = float8);
create type f788_new as range (subtype = numeric);
-- [hazards]
