-- A new aggregate over a new table's row type, whose transition function takes that row
-- type: the aggregate was created before the table and before its transition function
-- (`type public.f231_lines does not exist`; trial9 P3). It follows what it is made of.
-- [a]
create table f231_keep(id int);
-- [b]
create table f231_keep(id int);
create table f231_lines (id int primary key, name text);
create function f231_trans(state text, next f231_lines) returns text language sql as $$ select state || next.name $$;
create aggregate f231_agg(f231_lines) (initcond = '', stype = text, sfunc = f231_trans);
-- [hazards]
