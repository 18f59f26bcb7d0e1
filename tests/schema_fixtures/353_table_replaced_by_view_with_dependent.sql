-- A table replaced by a view of the same name while another view reads it: the dependent
-- view is dropped first and created again over the new view.
-- [a]
create table src (id int, v int);
create table obj (id int, v int);
create view dep as select id, v from obj;
-- [b]
create table src (id int, v int);
create view obj as select id, v from src;
create view dep as select id, v from obj;
-- [hazards] deletes_data, access_exclusive_lock
-- [sql] DROP VIEW public.dep
-- [sql] DROP TABLE public.obj
