-- A foreign key whose referenced key is a plain UNIQUE INDEX (no constraint) is added after
-- that index is built: on existing tables (NOT VALID, validated) and on new ones (seen on
-- lago-api's membership_roles and danbooru's user_events).
-- [a]
create table p (id int primary key, org int not null);
create table c (pid int, org int);
-- [b]
create table p (id int primary key, org int not null);
create table c (pid int, org int);
create unique index p_id_org on p (id, org);
alter table c add constraint c_fk foreign key (pid, org) references p (id, org);
create table q (id int primary key, login int not null);
create unique index q_login on q (login);
create table r (login int references q (login));
-- [hazards] index_build, share_row_exclusive_lock, correctness
-- [sql] VALIDATE CONSTRAINT "c_fk"
