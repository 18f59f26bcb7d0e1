-- Tables that go with foreign keys in a cycle (PostgREST's test.agents ↔ test.departments),
-- and a table whose foreign key references a partitioned table that goes with its partitions
-- (test.car_model_sales → test.car_models): each DROP TABLE failed (`constraint … depends on
-- table …`). The cycle's key is dropped first; the referencing table goes before the partitions.
-- [a]
create table f237_departments (id int primary key, head_id int);
create table f237_agents (id int primary key, department_id int references f237_departments);
alter table f237_departments add foreign key (head_id) references f237_agents;
create table f237_models (name text, year int, primary key (name, year)) partition by list (year);
create table f237_models_2021 partition of f237_models for values in (2021);
create table f237_models_default partition of f237_models default;
create table f237_a_sales (id int primary key, name text, year int, foreign key (name, year) references f237_models);
-- [b]
create table f237_keep(id int);
-- [hazards] deletes_data, access_exclusive_lock
