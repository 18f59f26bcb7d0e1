-- A new table with a GRANT, an index, RLS and a policy, in a plan that runs statement by
-- statement (another table's index is built concurrently; attack F20 sw_newtable_rls): the
-- GRANT was committed, the index built, and only then RLS enabled — a window with the grant
-- and no RLS. The table is new and empty: all of it is one transaction.
-- [a]
DO $$ BEGIN CREATE ROLE f947_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f947_old (id int primary key, y int);
-- [b]
DO $$ BEGIN CREATE ROLE f947_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f947_old (id int primary key, y int);
create index f947_oi on f947_old (y);
create table f947_t (id int primary key, x int);
grant select on f947_t to f947_r;
create index f947_ti on f947_t (x);
alter table f947_t enable row level security;
create policy f947_p on f947_t to f947_r using (x > 0);
-- [hazards] authz_update, index_build
