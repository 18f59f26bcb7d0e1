-- New functions in SQL and PL/pgSQL, one calling the other.
-- [a]
create table t (id int);
-- [b]
create table t (id int);
create function add_one(i int) returns int language sql immutable strict as $$ select i + 1 $$;
create function add_two(i int) returns int language plpgsql stable as $$
begin
  return add_one(add_one(i));
end $$;
-- [hazards]
