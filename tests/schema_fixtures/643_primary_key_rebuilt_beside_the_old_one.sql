-- A primary key gains INCLUDE columns and a fillfactor: its new index is built concurrently
-- under a temporary name (keeping its storage parameters) while the old key, the foreign key
-- on it and the replica identity keep working; then swapped in one short transaction.
-- [a]
create table p (id int, k int, constraint p_pkey primary key (id));
create table c (id int, pid int references p (id));
comment on constraint p_pkey on p is 'pk';
alter table p replica identity using index p_pkey;
alter table p cluster on p_pkey;
-- [b]
create table p (id int, k int, constraint p_pkey primary key (id) include (k) with (fillfactor = 70));
create table c (id int, pid int references p (id));
comment on constraint p_pkey on p is 'pk';
alter table p replica identity using index p_pkey;
alter table p cluster on p_pkey;
-- [hazards] access_exclusive_lock, correctness, index_build, index_dropped, replication, share_row_exclusive_lock
-- [sql] CREATE UNIQUE INDEX CONCURRENTLY "p_pkey_neon_migrate_new" ON public.p (id) INCLUDE (k) WITH (fillfactor=70)
-- [sql] PRIMARY KEY USING INDEX "p_pkey_neon_migrate_new"
