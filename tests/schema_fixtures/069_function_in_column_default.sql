-- A new function used in a new table's column default: the function comes first.
-- [a]
create table z (id int);
-- [b]
create table z (id int);
create function next_code() returns text language sql as $$ select 'C' || floor(random() * 1000)::int $$;
create table codes (code text default next_code(), id int);
-- [hazards]
