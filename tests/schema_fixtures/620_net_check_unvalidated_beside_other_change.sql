-- A validated CHECK made NOT VALID next to an unrelated new column (F27): the plan used to
-- add the column only and leave the CHECK validated (exit 0, schema differs). No statement
-- un-validates a constraint: it is dropped and added again NOT VALID (no scan).
-- [a]
create table t620 (id int, x int);
alter table t620 add constraint t620_ck check (x > 0);
create table t620_other (id int);
-- [b]
create table t620 (id int, x int);
alter table t620 add constraint t620_ck check (x > 0) not valid;
create table t620_other (id int, y int);
-- [hazards] access_exclusive_lock
-- [sql] ALTER TABLE public.t620 ADD CONSTRAINT "t620_ck" CHECK ((x > 0)) NOT VALID
