-- A relation whose kind changes (materialized view → table, view → table, table → view) keeps
-- in B the same indexes, extended statistics, column grants and column comments: the drop of
-- the old relation takes them, so they are created again on the new one (attack12 N16: the
-- plan took them as unchanged, and the comments were refused as "not modeled").
-- [a]
DO $$ BEGIN CREATE ROLE nm_281_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f281_x (id int primary key, v text);
create materialized view f281_m as select id, v from f281_x;
create index f281_m_id_idx on f281_m (id);
grant select on f281_m to nm_281_r;
comment on column f281_m.v is 'vee';
alter materialized view f281_m alter column v set statistics 50;
create statistics f281_st on id, v from f281_m;
create view f281_v as select id, v from f281_x;
grant select on f281_v to nm_281_r;
grant update (v) on f281_v to nm_281_r;
comment on column f281_v.v is 'vee';
comment on view f281_v is 'tee';
create table f281_t (id int, v text);
grant select (v), update (v) on f281_t to nm_281_r;
comment on column f281_t.v is 'tv';
-- [b]
DO $$ BEGIN CREATE ROLE nm_281_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f281_x (id int primary key, v text);
create table f281_m (id int, v text);
create index f281_m_id_idx on f281_m (id);
grant select on f281_m to nm_281_r;
comment on column f281_m.v is 'vee';
alter table f281_m alter column v set statistics 50;
create statistics f281_st on id, v from f281_m;
create table f281_v (id int, v text);
grant select on f281_v to nm_281_r;
grant update (v) on f281_v to nm_281_r;
comment on column f281_v.v is 'vee';
comment on table f281_v is 'tee';
create view f281_t as select id, v from f281_x;
grant select (v), update (v) on f281_t to nm_281_r;
comment on column f281_t.v is 'tv';
-- [hazards] access_exclusive_lock, authz_update, deletes_data
-- [sql] CREATE INDEX f281_m_id_idx
-- [sql] CREATE STATISTICS public.f281_st
-- [sql] GRANT UPDATE (v) ON TABLE public.f281_v
