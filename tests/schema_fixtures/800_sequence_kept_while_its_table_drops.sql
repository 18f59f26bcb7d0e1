-- A serial's sequence kept while its table is dropped (and another table starts drawing from
-- it): DROP TABLE ran before OWNED BY NONE, took the owned sequence along, and the plan failed
-- on it (found by an outside attacker). The sequence is now released before any drop.
-- [a]
create table f800_t (id serial primary key);
select setval('f800_t_id_seq', 500);
create table f800_u (id int generated always as identity);
-- [b]
create sequence f800_t_id_seq as integer;
create table f800_u2 (id int default nextval('f800_t_id_seq'));
-- [hazards] access_exclusive_lock, deletes_data
-- [sql] ALTER SEQUENCE public.f800_t_id_seq OWNED BY NONE;
