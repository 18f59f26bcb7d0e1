-- A view that selects from itself (`CREATE VIEW v AS TABLE t; CREATE OR REPLACE VIEW v AS
-- TABLE v`, as PostgREST's tests do): a plain CREATE VIEW of it fails (`relation … does not
-- exist`; trial9 P14). It is created in two steps: first with its columns' types, then
-- replaced by its definition.
-- [a]
create table f235_keep(id int);
-- [b]
create table f235_keep(id int);
create table f235_projects (id int primary key, name text collate "C", tags text[]);
create view f235_self as table f235_projects;
create or replace view f235_self as table f235_self;
create recursive view f235_rec (n) as values (1) union all select n + 1 from f235_rec where n < 3;
-- [hazards]
