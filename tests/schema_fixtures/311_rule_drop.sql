-- A rule goes, its table stays; another goes with its table.
-- [a]
create table t311 (id int);
create rule r311 as on delete to t311 do instead nothing;
create table t311_gone (id int);
create rule r311_gone as on update to t311_gone do instead nothing;
-- [b]
create table t311 (id int);
-- [hazards] access_exclusive_lock, deletes_data
-- [sql] DROP RULE r311 ON public.t311
