-- The safety net: a database-level setting (ALTER DATABASE … SET) is seen and reported.
-- [a]
create table t (id int);
-- [b]
create table t (id int);
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '64MB'); END $$;
-- [hazards]
-- [unsupported] not modeled by the schema engine: database setting work_mem differs
