-- An index the plan builds again (its definition changes), the primary key of a new table and
-- a materialized view created again (its query changes) keep their `CLUSTER ON` mark and
-- their statistics targets (index expression columns, the materialized view's columns);
-- a new table's `CLUSTER ON` is written (found by an outside attacker: all were lost silently).
-- [a]
create table f506_t (id int primary key, code text, n int);
create index f506_code_idx on f506_t (lower(code));
alter table f506_t cluster on f506_code_idx;
alter index f506_code_idx alter column 1 set statistics 300;
create materialized view f506_m as select id, n from f506_t;
create index f506_m_idx on f506_m ((n + 1));
alter materialized view f506_m cluster on f506_m_idx;
alter index f506_m_idx alter column 1 set statistics 120;
alter materialized view f506_m alter column n set statistics 50;
-- [b]
create table f506_t (id int primary key, code text, n int);
create index f506_code_idx on f506_t (lower(code)) with (fillfactor = 80);
alter table f506_t cluster on f506_code_idx;
alter index f506_code_idx alter column 1 set statistics 300;
create materialized view f506_m as select id, n, 1 as one from f506_t;
create index f506_m_idx on f506_m ((n + 1));
alter materialized view f506_m cluster on f506_m_idx;
alter index f506_m_idx alter column 1 set statistics 120;
alter materialized view f506_m alter column n set statistics 50;
create table f506_new (id int primary key, v text);
alter table f506_new cluster on f506_new_pkey;
-- (correctness: the materialized view, dropped and populated again, is named missing
-- until then — the statements between commit one by one.)
-- [hazards] correctness, index_build, index_dropped
-- [sql] ALTER TABLE public.f506_t CLUSTER ON f506_code_idx
-- [sql] ALTER INDEX public.f506_code_idx ALTER COLUMN 1 SET STATISTICS 300
-- [sql] ALTER MATERIALIZED VIEW public.f506_m CLUSTER ON f506_m_idx
-- [sql] ALTER INDEX public.f506_m_idx ALTER COLUMN 1 SET STATISTICS 120
-- [sql] ALTER MATERIALIZED VIEW public.f506_m ALTER COLUMN n SET STATISTICS 50
-- [sql] ALTER TABLE public.f506_new CLUSTER ON f506_new_pkey
