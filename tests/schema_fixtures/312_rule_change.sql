-- A rule's action changes (dropped and created again) and another is enabled always.
-- [a]
create table t312 (id int, note text);
create table t312_log (id int, what text);
create rule r312_ins as on insert to t312 do also insert into t312_log values (new.id, 'insert');
create rule r312_del as on delete to t312 do also insert into t312_log values (old.id, 'delete');
-- [b]
create table t312 (id int, note text);
create table t312_log (id int, what text);
create rule r312_ins as on insert to t312 do also insert into t312_log values (new.id, coalesce(new.note, 'insert'));
create rule r312_del as on delete to t312 do also insert into t312_log values (old.id, 'delete');
alter table t312 enable always rule r312_del;
-- [hazards]
-- [sql] DROP RULE r312_ins ON public.t312
-- [sql] ALTER TABLE public.t312 ENABLE ALWAYS RULE r312_del
