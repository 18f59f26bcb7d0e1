-- An index renamed, its definition otherwise the same (a plain one, and a partition's own):
-- it was dropped and built again CONCURRENTLY under its new name, the table without it for
-- the whole build (trial9 P18). It is renamed in place.
-- [a]
create table f238_film (id int primary key, title text, year int);
create index f238_idx_title on f238_film (title);
create unique index f238_idx_year on f238_film (year, id) where year > 2000;
create table f238_pay (id int, at date) partition by range (at);
create table f238_pay_2022 partition of f238_pay for values from ('2022-01-01') to ('2023-01-01');
create index f238_pay_2022_at on f238_pay_2022 (at);
-- [b]
create table f238_film (id int primary key, title text, year int);
create index f238_film_title_idx on f238_film (title);
create unique index "F238 year" on f238_film (year, id) where year > 2000;
create table f238_pay (id int, at date) partition by range (at);
create table f238_pay_2022 partition of f238_pay for values from ('2022-01-01') to ('2023-01-01');
create index f238_p06 on f238_pay_2022 (at);
-- [hazards]
-- [sql] ALTER INDEX public.f238_idx_title RENAME TO f238_film_title_idx
-- [sql] ALTER INDEX public.f238_idx_year RENAME TO "F238 year"
-- [sql] ALTER INDEX public.f238_pay_2022_at RENAME TO f238_p06
-- [no-sql] CONCURRENTLY
