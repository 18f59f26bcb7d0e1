-- A new table with RLS forced and two policies for specific commands.
-- [a]
create table z (id int);
-- [b]
create table z (id int);
create table secrets (id int, owner name default current_user);
alter table secrets enable row level security;
alter table secrets force row level security;
create policy sel on secrets for select using (owner = current_user);
create policy upd on secrets for update using (owner = current_user) with check (owner = current_user);
-- [hazards] authz_update
