-- A UNIQUE constraint made NULLS NOT DISTINCT: its new index is built as an index spells it,
-- `(x) NULLS NOT DISTINCT` — written as the constraint has it, the build was a syntax error,
-- after the old constraint had gone (found by the real-project trial).
-- [a]
create table f521 (id int, x int, k int, constraint f521_ux unique (x));
-- [b]
create table f521 (id int, x int, k int, constraint f521_ux unique nulls not distinct (x) include (k));
-- [hazards] access_exclusive_lock, correctness, index_build, index_dropped
-- [sql] (x) INCLUDE (k) NULLS NOT DISTINCT
