-- A table dropped with its foreign key that rests on a plain UNIQUE INDEX the plan drops too:
-- the foreign key goes first, or Postgres refuses to drop the index.
-- [a]
create table p (id int primary key, org int not null);
create unique index p_id_org on p (id, org);
create table c (pid int, org int, constraint c_fk foreign key (pid, org) references p (id, org));
-- [b]
create table p (id int primary key, org int not null);
-- [hazards] index_dropped, deletes_data, access_exclusive_lock
-- [sql] DROP CONSTRAINT "c_fk"
