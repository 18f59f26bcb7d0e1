-- A check constraint's expression changes: dropped, added NOT VALID, validated.
-- [a]
create table t (n int constraint n_range check (n between 0 and 10));
-- [b]
create table t (n int constraint n_range check (n between 0 and 100));
-- [hazards] access_exclusive_lock, correctness
