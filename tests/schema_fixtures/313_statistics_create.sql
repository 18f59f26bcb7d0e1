-- Extended statistics (kinds, an expression) with a statistics target, on an existing and
-- a new table.
-- [a]
create table t313 (a int, b int, c text);
-- [b]
create table t313 (a int, b int, c text);
create statistics s313 (ndistinct, dependencies) on a, b from t313;
alter statistics s313 set statistics 500;
create table t313_new (x int, y text);
create statistics s313_expr on (lower(y)), x from t313_new;
-- [hazards]
-- [sql] CREATE STATISTICS public.s313 (ndistinct, dependencies) ON a, b FROM public.t313
-- [sql] ALTER STATISTICS public.s313 SET STATISTICS 500
