-- An RLS policy reading a column of another table that the plan drops, and now reading
-- another column: DROP COLUMN came before ALTER POLICY and failed (attack9 F3).
-- [a]
create table f884_members (uid text, org int, legacy_org int);
create table f884_docs (id int primary key, org int);
alter table f884_docs enable row level security;
create policy p on f884_docs using (org in (select legacy_org from f884_members where uid = current_user));
-- [b]
create table f884_members (uid text, org int);
create table f884_docs (id int primary key, org int);
alter table f884_docs enable row level security;
create policy p on f884_docs using (org in (select org from f884_members where uid = current_user));
-- [hazards] deletes_data, authz_update, access_exclusive_lock
-- [sql] DROP POLICY p ON public.f884_docs
