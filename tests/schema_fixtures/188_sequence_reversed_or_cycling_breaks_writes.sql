-- A serial's sequence turned to count down walks back over used keys; CYCLE added over an
-- integer's range wraps back to used keys: breaks_writes. CYCLE over a bigint's full range is
-- only correctness.
-- [a]
create table users (id serial primary key);
create table items (id serial primary key);
create table big (id bigserial primary key);
-- [b]
create table users (id serial primary key);
create table items (id serial primary key);
create table big (id bigserial primary key);
alter sequence users_id_seq increment by -1 minvalue -1000000;
alter sequence items_id_seq maxvalue 1001 cycle;
alter sequence big_id_seq cycle;
-- [hazards] breaks_writes, correctness
-- [hazard-text] INCREMENT BY goes from 1 to -1
-- [hazard-text] CYCLE is added over 1..1001
