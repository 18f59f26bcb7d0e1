-- Rules on a table (one disabled) and on a new view, created after the tables and views.
-- [a]
create table t310 (id int primary key, note text);
-- [b]
create table t310 (id int primary key, note text);
create table t310_log (id int, at timestamptz default now());
create rule r310_keep as on delete to t310 do instead nothing;
create rule r310_log as on insert to t310 do also insert into t310_log (id) values (new.id);
alter table t310 disable rule r310_log;
create view v310 as select id, note from t310;
create rule r310_ins as on insert to v310 do instead insert into t310 values (new.id, new.note);
-- [hazards] breaks_writes
-- [hazard-text] replaces the writes it catches (DO INSTEAD)
-- [sql] CREATE RULE r310_keep AS
-- [sql] ALTER TABLE public.t310 DISABLE RULE r310_log
