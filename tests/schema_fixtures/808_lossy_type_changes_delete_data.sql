-- Type changes within a family that lose what the old type kept were planned without
-- deletes_data (json → jsonb drops duplicate keys, inet → cidr zeroes host bits, interval →
-- interval hour to minute cuts seconds) or without any hazard (timestamptz → timestamp takes
-- the applying session's time zone) (found by an outside attacker).
-- [a]
create table f808 (id int primary key, j json, n inet, i interval, ts timestamptz);
-- [b]
create table f808 (id int primary key, j jsonb, n cidr, i interval hour to minute, ts timestamp);
-- [hazards] access_exclusive_lock, deletes_data, table_rewrite
-- [sql] ALTER COLUMN j TYPE jsonb
-- [sql] ALTER COLUMN ts TYPE timestamp without time zone
