-- A range type is created and used by a column: only CREATE TYPE … AS RANGE is planned
-- (its constructor functions, multirange and array types come with it).
-- [a]
create table slots (id int primary key);
-- [b]
create type floatrange as range (subtype = float8, subtype_diff = float8mi);
create table slots (id int primary key, span floatrange, spans floatrange[]);
-- [hazards]
-- [sql] CREATE TYPE public.floatrange AS RANGE (subtype = double precision, subtype_diff = float8mi, multirange_type_name = public.floatmultirange)
