-- ALTER PUBLICATION: a table added with a row filter, another with a column list, one removed
-- [a]
create table t1 (id int primary key);
create table t2 (id int primary key, n int);
create table t3 (id int primary key, a text, b text, secret text);
create table t4 (id int primary key);
create publication p for table t1, t4;
-- [b]
create table t1 (id int primary key);
create table t2 (id int primary key, n int);
create table t3 (id int primary key, a text, b text, secret text);
create table t4 (id int primary key);
create publication p for table t1, t2 where (n > 10), t3 (id, a, b);
-- [hazards] replication
-- [sql] ALTER PUBLICATION p SET TABLE public.t1, TABLE public.t2 WHERE ((n > 10)), TABLE public.t3 (id, a, b)
