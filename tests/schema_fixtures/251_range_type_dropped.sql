-- A range type and the column using it go: the column first, then DROP TYPE (its
-- constructors go with it and are not dropped on their own).
-- [a]
create type floatrange as range (subtype = float8, subtype_diff = float8mi, multirange_type_name = floatranges);
create table slots (id int primary key, span floatrange);
-- [b]
create table slots (id int primary key);
-- [hazards] access_exclusive_lock, deletes_data
-- [sql] DROP TYPE public.floatrange
