-- A plain table becomes partitioned: reported as unsupported, never a silent no-op.
-- [a]
create table logs (at date not null, msg text);
-- [b]
create table logs (at date not null, msg text) partition by range (at);
-- [hazards]
-- [unsupported] partitioning or inheritance changed
