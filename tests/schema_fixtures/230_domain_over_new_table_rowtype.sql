-- A new domain over a new table's row type (PostgREST's test.projects_domain): the domain was
-- created with the types, before the table (`type "f230.projects" does not exist`; trial9 P2).
-- It is created among the tables, after the table whose row type it is.
-- [a]
create table f230_keep(id int);
-- [b]
create table f230_keep(id int);
create schema f230;
create table f230.projects (id int primary key, name text);
create domain f230.projects_domain as f230.projects;
create function f230.pd(d f230.projects_domain) returns int language sql as $$ select (d).id $$;
-- [hazards]
