-- A serial whose sequence is replaced by a new one (renamed): the new sequence started at 1
-- and the next insert failed on the primary key (found by an outside attacker). It is set past
-- the column's values and the old sequence's position right after it is created
-- (tests/integration/schema_transitions.rs inserts a row after the plan).
-- [a]
create table f802 (id serial primary key, v int);
insert into f802 (v) select g from generate_series(1, 10) g;
-- [b]
create table f802 (id int primary key, v int);
create sequence f802_id_seq2 as integer owned by f802.id;
alter table f802 alter column id set default nextval('f802_id_seq2');
-- [hazards] deletes_data
-- [sql] SELECT pg_catalog.setval('public.f802_id_seq2', v) FROM (SELECT GREATEST((SELECT max(id) FROM public.f802), pg_catalog.pg_sequence_last_value('public.f802_id_seq'::regclass)) AS v) AS p WHERE v >= 1;
