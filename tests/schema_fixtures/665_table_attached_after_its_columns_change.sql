-- A table attached as a partition whose columns must first match the partitioned table's:
-- a type change (with the parent's) and a NOT NULL the parent has. Its columns, inherited in
-- the desired schema, were never compared: ATTACH failed ("child table has different type
-- for column", "column must be marked NOT NULL") and the re-diff planned it again (found by
-- an outside attacker). Its columns now change as a table of its own, then it is attached.
-- [a]
create table f665 (id int not null, k int, x int) partition by range (k);
create table f665_1 partition of f665 for values from (0) to (10);
create table f665_lone (id int, k int, x int default 5, extra int);
insert into f665_lone (id, k) values (1, 25);
-- [b]
create table f665 (id int not null, k int, x bigint) partition by range (k);
create table f665_1 partition of f665 for values from (0) to (10);
create table f665_lone partition of f665 (x default 5) for values from (20) to (30);
-- [hazards] access_exclusive_lock, correctness, deletes_data, table_rewrite
-- [sql] ALTER TABLE public.f665_lone ALTER COLUMN x TYPE bigint
-- [sql] ALTER TABLE public.f665_lone ALTER COLUMN id SET NOT NULL
