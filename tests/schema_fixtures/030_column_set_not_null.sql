-- SET NOT NULL through a validated CHECK: no long ACCESS EXCLUSIVE scan.
-- [a]
create table t (id int primary key, email text);
insert into t values (1, 'a@b');
-- [b]
create table t (id int primary key, email text not null);
-- [hazards] access_exclusive_lock, correctness
-- [sql] CHECK (email IS NOT NULL) NOT VALID
-- [sql] ALTER TABLE public.t ALTER COLUMN email SET NOT NULL
