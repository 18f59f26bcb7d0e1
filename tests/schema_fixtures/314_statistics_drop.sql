-- Extended statistics go, their table stays; others go with a dropped column.
-- [a]
create table t314 (a int, b int, c int);
create statistics s314 on a, b from t314;
create statistics s314_c on b, c from t314;
-- [b]
create table t314 (a int, b int);
-- [hazards] access_exclusive_lock, deletes_data
-- [sql] DROP STATISTICS public.s314
