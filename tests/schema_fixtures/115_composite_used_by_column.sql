-- A composite type used by a table column gains and loses attributes: the lost attribute's
-- values go from every stored row (deletes_data, attack9 F2).
-- [a]
create type address as (street text, city text);
create table shops (id int primary key, addr address);
insert into shops values (1, row('Main St', 'Springfield'));
-- [b]
create type address as (street text, zip text);
create table shops (id int primary key, addr address);
-- [hazards] deletes_data
