-- A CHECK `varchar_col IN (…)` (and NOT IN) is stored as `= ANY ((ARRAY['a'::character
-- varying, …])::text[])`; the plan wrote that text back, the server re-parsed it to
-- `ANY (ARRAY[('a'::character varying)::text, …])`: dumps differed and every re-diff dropped
-- and added the constraint again (trial9 P11, MusicBrainz). Both forms read as one spelling,
-- which the server stores as the source's form again.
-- [a]
create table f222_kept (id int primary key, entity_type varchar(50) not null);
-- [b]
create table f222_kept (id int primary key, entity_type varchar(50) not null,
  constraint allowed_kept check (entity_type in ('artist', 'event', 'it''s')));
create table f222_new (id int primary key, kind varchar(10),
  constraint allowed_new check (kind in ('a', 'b')),
  constraint not_c check (kind not in ('c', 'd')));
-- [hazards] access_exclusive_lock, correctness
-- [sql] ::character varying[])::text[]
