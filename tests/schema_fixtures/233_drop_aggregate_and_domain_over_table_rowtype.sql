-- A table goes with an aggregate, its transition function and a domain over its row type
-- (and a table with a column of that domain): the table was dropped first (`cannot drop table
-- … function lines_trans(text,lines) depends on type lines`; trial9 P5, P6).
-- [a]
create table f233_lines (id int primary key, name text);
create function f233_trans(state text, next f233_lines) returns text language sql as $$ select state || next.name $$;
create aggregate f233_agg(f233_lines) (initcond = '', stype = text, sfunc = f233_trans);
create schema f233;
create table f233.projects (id int primary key, name text);
create domain f233.projects_domain as f233.projects;
create table f233.holder (p f233.projects_domain);
-- [b]
create table f233_keep(id int);
-- [hazards] deletes_data, access_exclusive_lock, untrackable_dependencies
