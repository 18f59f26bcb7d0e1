-- A serial column dropped while its sequence is handed to another table's column: DROP COLUMN
-- took the owned sequence along and the new default failed on it, half-way (found by an
-- outside attacker). The sequence is released first, then given its new owner.
-- [a]
create table f801_t (id serial primary key, v int);
create table f801_t2 (id int, w int);
select setval('f801_t_id_seq', 500);
-- [b]
create table f801_t (v int);
create sequence f801_t_id_seq as integer;
create table f801_t2 (id int default nextval('f801_t_id_seq'), w int);
alter sequence f801_t_id_seq owned by f801_t2.id;
-- [hazards] access_exclusive_lock, deletes_data, index_dropped
-- [sql] ALTER SEQUENCE public.f801_t_id_seq OWNED BY NONE;
-- [sql] ALTER SEQUENCE public.f801_t_id_seq OWNED BY public.f801_t2.id;
