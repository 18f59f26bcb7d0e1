-- Materialized views rebuilt over a retyped column keep their tablespace and access method,
-- and their indexes their tablespace; one moved to another tablespace is created again there.
-- [tablespaces] f721_ts1, f721_ts2
-- [a]
create access method f721_heap type table handler heap_tableam_handler;
create table t (id int, x int) tablespace f721_ts1;
create materialized view mv using f721_heap with (fillfactor=70) tablespace f721_ts1 as select id, x from t with no data;
create index mi on mv (id) tablespace f721_ts1;
create materialized view mw tablespace f721_ts1 as select id from t;
-- [b]
create access method f721_heap type table handler heap_tableam_handler;
create table t (id int, x bigint) tablespace f721_ts1;
create materialized view mv using f721_heap with (fillfactor=70) tablespace f721_ts1 as select id, x from t with no data;
create index mi on mv (id) tablespace f721_ts1;
create materialized view mw tablespace f721_ts2 as select id from t;
-- [hazards] access_exclusive_lock, index_build, table_rewrite
-- [sql] CREATE MATERIALIZED VIEW public.mv USING f721_heap WITH (fillfactor=70) TABLESPACE f721_ts1 AS
-- [sql] CREATE INDEX mi ON public.mv USING btree (id) TABLESPACE f721_ts1
-- [sql] CREATE MATERIALIZED VIEW public.mw TABLESPACE f721_ts2 AS
