-- A view granted to PUBLIC reads an inner view that is not granted; the inner view is
-- redefined to join a table it did not read: every role reads the new table's data through
-- both views' owner. The outer view, created again with it, names the new table; a
-- materialized view granted to PUBLIC that starts reading a new column does too. The join
-- makes both views non-updatable (they were): breaks_writes (attack11 A10).
-- [a]
create table acct (id int primary key, name text);
create table secrets (id int primary key, token text);
create view inner_v as select id, name as label from acct;
create view outer_v as select id, label from inner_v;
grant select on outer_v to public;
create materialized view mv as select id from acct;
grant select on mv to public;
-- [b]
create table acct (id int primary key, name text);
create table secrets (id int primary key, token text);
create view inner_v as select a.id, s.token as label from acct a join secrets s using (id);
create view outer_v as select id, label from inner_v;
grant select on outer_v to public;
create materialized view mv as select id, name from acct;
grant select on mv to public;
-- [hazards] authz_update, breaks_writes, index_build
-- [hazard-text] view public.inner_v no longer accepts INSERT, UPDATE, DELETE
-- [hazard-text] view public.outer_v is readable by PUBLIC (every role)
-- [hazard-text] column public.secrets.token
-- [hazard-text] materialized view public.mv is readable by PUBLIC (every role)
