-- Policies are added, changed and removed; RLS is turned off on another table.
-- [a]
create table docs (id int, owner text);
alter table docs enable row level security;
create policy own on docs using (owner = current_user);
create policy gone on docs for delete using (false);
create table notes (id int);
alter table notes enable row level security;
-- [b]
create table docs (id int, owner text);
alter table docs enable row level security;
create policy own on docs for select to public using (owner = current_user or owner = 'shared');
create policy insert_own on docs as restrictive for insert with check (owner = current_user);
create table notes (id int);
-- [hazards] authz_update
