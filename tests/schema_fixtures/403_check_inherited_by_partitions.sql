-- A CHECK constraint on a partitioned table and a new partition: the partitions' inherited
-- copies follow from the parent's (the safety net must not report them).
-- [a]
create table f403_pe (id int, amount int, at date) partition by range (at);
create table f403_pe_2026 partition of f403_pe for values from ('2026-01-01') to ('2027-01-01');
-- [b]
create table f403_pe (id int, amount int check (amount >= 0), at date) partition by range (at);
create table f403_pe_2026 partition of f403_pe for values from ('2026-01-01') to ('2027-01-01');
create table f403_pe_2027 partition of f403_pe for values from ('2027-01-01') to ('2028-01-01');
-- [hazards] access_exclusive_lock, correctness
