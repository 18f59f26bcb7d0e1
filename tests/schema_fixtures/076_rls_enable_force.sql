-- Row-level security enabled and forced.
-- [a]
create table docs (id int, owner text);
-- [b]
create table docs (id int, owner text);
alter table docs enable row level security;
alter table docs force row level security;
-- [hazards] authz_update
