-- A bigserial column on an existing table: sequence, default, ownership.
-- [a]
create table t (name text);
-- [b]
create table t (name text, id bigserial);
-- [hazards] access_exclusive_lock, table_rewrite
