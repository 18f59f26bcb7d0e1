-- A column used by a policy changes type: the policy is dropped first and created again after.
-- [a]
create table docs (id int, owner varchar(30));
alter table docs enable row level security;
create policy own on docs using (owner = current_user);
-- [b]
create table docs (id int, owner text);
alter table docs enable row level security;
create policy own on docs using (owner = current_user);
-- [hazards] access_exclusive_lock, authz_update
