-- A partitioned table becomes a plain table: refused loudly (regular ↔ partitioned
-- conversions are not planned).
-- [a]
create table logs (at date not null, msg text) partition by range (at);
-- [b]
create table logs (at date not null, msg text);
-- [hazards]
-- [unsupported] table public.logs: partitioning or inheritance changed
