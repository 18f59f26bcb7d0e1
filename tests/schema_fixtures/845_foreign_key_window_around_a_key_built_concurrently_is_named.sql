-- A UNIQUE constraint whose column is retyped and which gains INCLUDE columns is dropped and
-- built again concurrently; the foreign key on it is dropped before and added again (NOT
-- VALID, then validated) after. The stretch without the foreign key cannot be one
-- transaction (the build runs outside one): a hazard on its drop names it up to the
-- statement that adds it again.
-- [a]
create table p (id int primary key, k int, constraint p_k_key unique (k));
create table c (id int primary key, pk int, constraint c_pk_fkey foreign key (pk) references p (k));
insert into p values (1, 1), (2, 2);
insert into c values (1, 1);
-- [b]
create table p (id int primary key, k bigint, constraint p_k_key unique (k) include (id));
create table c (id int primary key, pk int, constraint c_pk_fkey foreign key (pk) references p (k));
-- [hazards] access_exclusive_lock, correctness, index_build, index_dropped, share_row_exclusive_lock, table_rewrite
-- [sql] VALIDATE CONSTRAINT "c_pk_fkey"
-- [hazard-text] the table is without this foreign key from here until `ALTER TABLE public.c ADD CONSTRAINT "c_pk_fkey" FOREIGN KEY (pk) REFERENCES public.p(k) NOT VALID;`
