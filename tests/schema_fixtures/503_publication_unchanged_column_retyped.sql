-- A publication that does not change publishes a table through a column list and a row
-- filter whose column changes type: the table leaves the publication before the column
-- changes and is added back after it (found by an outside attacker: it was never added back,
-- the apply succeeded and replication of the table stopped silently).
-- [a]
create table f503_t (id int primary key, v int, note text);
create publication f503_pub for table f503_t (id, v) where (v > 0);
-- [b]
create table f503_t (id int primary key, v bigint, note text);
create publication f503_pub for table f503_t (id, v) where (v > 0);
-- [hazards] access_exclusive_lock, replication, table_rewrite
-- [sql] ALTER PUBLICATION f503_pub DROP TABLE public.f503_t
-- [sql] ALTER PUBLICATION f503_pub SET TABLE public.f503_t (id, v) WHERE
