-- A partition key column retyped (int → bigint): PostgreSQL refuses ALTER COLUMN … TYPE on
-- it. The plan exited 0 with that statement, and with a policy on the table dropped the policy
-- first, in a statement of its own (found by an outside attacker, d45b_partition_key_retype,
-- d45_partitioned_policy_retype). Refused up front, naming the key; the tables are left alone
-- (no DROP POLICY, no detach), while the rest of the plan still applies.
-- [a]
DO $$ BEGIN CREATE ROLE f982_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f982_p(id int, k int, owner text) partition by range (k);
create table f982_p1 partition of f982_p for values from (0) to (10);
alter table f982_p enable row level security;
create policy f982_pp on f982_p to f982_app using (owner = current_user and k > 0);
grant select on f982_p to f982_app;
insert into f982_p values (1, 1, 'x');
create table f982_other(id int);
-- [b]
DO $$ BEGIN CREATE ROLE f982_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f982_p(id int, k bigint, owner text) partition by range (k);
create table f982_p1 partition of f982_p for values from (0) to (10);
alter table f982_p enable row level security;
create policy f982_pp on f982_p to f982_app using (owner = current_user and k > 0);
grant select on f982_p to f982_app;
create table f982_other(id int, n int);
-- [hazards]
-- [unsupported] column k (integer → bigint) is part of its partition key (RANGE (k))
-- [sql] ALTER TABLE public.f982_other ADD COLUMN n integer
-- [no-sql] POLICY
-- [no-sql] DETACH
-- [no-sql] ALTER COLUMN k
