-- Extended statistics change kinds and columns (dropped and created again), another only its
-- target (in place), a third goes back to the default target.
-- [a]
create table t315 (a int, b int, c int);
create statistics s315 (ndistinct) on a, b from t315;
create statistics s315_t on a, c from t315;
create statistics s315_d on b, c from t315;
alter statistics s315_d set statistics 100;
-- [b]
create table t315 (a int, b int, c int);
create statistics s315 (mcv) on a, b, c from t315;
create statistics s315_t on a, c from t315;
alter statistics s315_t set statistics 1000;
create statistics s315_d on b, c from t315;
-- [hazards]
-- [sql] DROP STATISTICS public.s315
-- [sql] ALTER STATISTICS public.s315_t SET STATISTICS 1000
