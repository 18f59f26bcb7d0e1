-- An RLS policy whose USING reads a table the plan drops, and that now reads a new table:
-- ALTER POLICY came after DROP TABLE, which failed ("policy p on table docs depends on table
-- members"; found by an outside attacker, attack9 F3). The policy is dropped before the
-- table and created again after.
-- [a]
create table f883_members (uid text, org int);
create table f883_docs (id int primary key, org int);
alter table f883_docs enable row level security;
create policy p on f883_docs using (org in (select org from f883_members where uid = current_user));
-- [b]
create table f883_members2 (uid text, org int);
create table f883_docs (id int primary key, org int);
alter table f883_docs enable row level security;
create policy p on f883_docs using (org in (select org from f883_members2 where uid = current_user));
-- [hazards] deletes_data, authz_update, access_exclusive_lock
-- [sql] DROP POLICY p ON public.f883_docs
