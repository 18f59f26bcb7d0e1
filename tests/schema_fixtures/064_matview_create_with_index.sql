-- A materialized view with a unique index on it.
-- [a]
create table sales (day date, amount numeric);
-- [b]
create table sales (day date, amount numeric);
create materialized view daily as select day, sum(amount) as total from sales group by day;
create unique index daily_day on daily (day);
-- [hazards] index_build
