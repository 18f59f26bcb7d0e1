-- A key swapped (UNIQUE loses INCLUDE, PRIMARY KEY moves to another column) while a foreign
-- key on it is changed, dropped, or goes with its table: the swap leaves those to their own
-- change (attack12 N8: the foreign key was dropped twice and the plan stopped half-way).
-- [a]
create table f280_t1 (a int not null, b int not null, constraint f280_t1_a_key unique (a) include (b));
create table f280_r1 (a int references f280_t1 (a));
create table f280_t2 (a int not null, b int not null, constraint f280_t2_a_key unique (a) include (b));
create table f280_r2 (a int references f280_t2 (a));
create table f280_t3 (a int not null, b int not null, constraint f280_t3_pkey primary key (a));
create table f280_r3 (a int references f280_t3);
create table f280_t4 (a int not null, b int not null, constraint f280_t4_a_key unique (a) include (b));
create table f280_r4 (a int references f280_t4 (a));
-- [b]
create table f280_t1 (a int not null, b int not null, constraint f280_t1_a_key unique (a));
create table f280_r1 (a int references f280_t1 (a) on delete cascade);
create table f280_t2 (a int not null, b int not null, constraint f280_t2_a_key unique (a));
create table f280_r2 (a int);
create table f280_t3 (a int not null, b int not null, constraint f280_t3_pkey primary key (b));
create table f280_r3 (a int);
create table f280_t4 (a int not null, b int not null, constraint f280_t4_a_key unique (a));
-- [hazards] access_exclusive_lock, correctness, deletes_data, index_build, index_dropped, share_row_exclusive_lock
