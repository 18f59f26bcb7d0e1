-- Reordering enum values, with a default and a view over the column.
-- [a]
create type size as enum ('small', 'large', 'medium');
create table shirts (id int primary key, size size not null default 'medium');
create view big_shirts as select id from shirts where size > 'small';
insert into shirts values (1, 'small'), (2, 'large');
-- [b]
create type size as enum ('small', 'medium', 'large');
create table shirts (id int primary key, size size not null default 'medium');
create view big_shirts as select id from shirts where size > 'small';
-- [hazards] access_exclusive_lock, table_rewrite
