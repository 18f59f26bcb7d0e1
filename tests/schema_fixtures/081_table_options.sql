-- Storage parameters set, changed and reset.
-- [a]
create table t (id int) with (fillfactor = 70, autovacuum_enabled = false);
-- [b]
create table t (id int) with (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.05);
-- [hazards]
-- [sql] RESET (autovacuum_enabled)
