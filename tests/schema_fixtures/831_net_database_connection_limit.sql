-- A database's own properties (ALTER DATABASE <current> CONNECTION LIMIT 5): the model leaves the
-- database out and the net compared only its comment, privileges and owner ("no schema changes";
-- found by an outside attacker: a migration capped production at 5 connections). The net now
-- reads CONNECTION LIMIT, IS_TEMPLATE, ALLOW_CONNECTIONS and TABLESPACE, named with both values.
-- [a]
create table f831_t (id int);
-- [b]
create table f831_t (id int);
do $$ begin execute format('alter database %I connection limit 5', current_database()); end $$;
-- [hazards]
-- [unsupported] not modeled by the schema engine: database (this database) differs (CONNECTION LIMIT -1 → 5)
