-- a column in a publication's column list is dropped: the table leaves the publication first
-- [a]
create table t (id int primary key, a text, old text);
create publication p for table t (id, a, old);
-- [b]
create table t (id int primary key, a text);
create publication p for table t (id, a);
-- [hazards] replication, deletes_data, access_exclusive_lock
-- [sql] ALTER PUBLICATION p DROP TABLE public.t
-- [sql] ALTER PUBLICATION p SET TABLE public.t (id, a)
