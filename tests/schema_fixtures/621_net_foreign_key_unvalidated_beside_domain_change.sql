-- A validated FOREIGN KEY and CHECK made NOT VALID while a domain's CHECK changes too (F27):
-- the domain's change hid the others. Both are added again NOT VALID.
-- [a]
create table p621 (id int primary key);
create table t621 (id int, x int, pid int);
alter table t621 add constraint t621_ck check (x > 0);
alter table t621 add constraint t621_fk foreign key (pid) references p621 (id);
create domain d621 as int constraint d621_c check (value > 0);
-- [b]
create table p621 (id int primary key);
create table t621 (id int, x int, pid int);
alter table t621 add constraint t621_ck check (x > 0) not valid;
alter table t621 add constraint t621_fk foreign key (pid) references p621 (id) not valid;
create domain d621 as int;
alter domain d621 add constraint d621_c check (value > 0) not valid;
-- [hazards] access_exclusive_lock, share_row_exclusive_lock
-- [sql] ALTER TABLE public.t621 ADD CONSTRAINT "t621_fk" FOREIGN KEY (pid) REFERENCES public.p621(id) NOT VALID
