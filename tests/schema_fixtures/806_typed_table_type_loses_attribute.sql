-- A composite type with a typed table loses an attribute (and an index on it goes): ALTER
-- TYPE … DROP ATTRIBUTE … CASCADE after the index is dropped, with the typed table's data
-- loss said on it (found by an outside attacker: the plan failed, exit 0).
-- [a]
create type f806_ct as (a int, b text);
create table f806_typed of f806_ct (primary key (a));
create index f806_b on f806_typed (b);
insert into f806_typed values (1, 'x');
-- [b]
create type f806_ct as (a int);
create table f806_typed of f806_ct (primary key (a));
-- [hazards] access_exclusive_lock, deletes_data, index_dropped
-- [sql] ALTER TYPE public.f806_ct DROP ATTRIBUTE b CASCADE;
