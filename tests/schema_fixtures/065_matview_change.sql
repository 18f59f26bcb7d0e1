-- A materialized view's query changes: dropped and recreated, its index and comment too.
-- [a]
create table sales (day date, amount numeric);
create materialized view daily as select day, sum(amount) as total from sales group by day;
create index daily_day on daily (day);
comment on materialized view daily is 'per day';
-- [b]
create table sales (day date, amount numeric);
create materialized view daily as select day, sum(amount) as total, count(*) as n from sales group by day;
create index daily_day on daily (day);
comment on materialized view daily is 'per day';
-- [hazards] index_build
