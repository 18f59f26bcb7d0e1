-- A plain UNIQUE INDEX that a kept foreign key rests on changes (rename, build, drop): the
-- foreign key is dropped first and added again after the new index is built.
-- [a]
create table p (id int primary key, org int not null);
create unique index p_id_org on p (id, org);
create table c (pid int, org int, constraint c_fk foreign key (pid, org) references p (id, org));
-- [b]
create table p (id int primary key, org int not null);
create unique index p_id_org on p (id, org) with (fillfactor = 70);
create table c (pid int, org int, constraint c_fk foreign key (pid, org) references p (id, org));
-- [hazards] index_build, index_dropped, share_row_exclusive_lock, correctness
-- [sql] DROP CONSTRAINT "c_fk"
