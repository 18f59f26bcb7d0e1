-- The reverse of 519: dropping the extensions drops their types' attributes and their
-- domains' constraints with them; nothing is "not modeled".
-- [a]
create extension tablefunc;
create extension cube;
create extension earthdistance;
create table t (id int primary key);
-- [b]
create table t (id int primary key);
-- [hazards] deletes_data
-- [sql] DROP EXTENSION earthdistance
