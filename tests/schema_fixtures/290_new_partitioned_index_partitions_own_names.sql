-- A new index on a partitioned table whose partitions' indexes have their own names in the
-- target (created on each partition first, then on the parent, which attaches them), and one
-- whose partition index was renamed: the plan created the parent's index only, and Postgres
-- named the partitions' indexes itself (`f290_p1_id_idx`; found by an outside attacker,
-- e79b_part_index_precreated, e79_part_trigger_index). They are renamed to the target's names.
-- [a]
create table f290_p(id int, k int) partition by range(k);
create table f290_p1 partition of f290_p for values from (0) to (10);
create table f290_p2 partition of f290_p for values from (10) to (20);
create table f290_q(id int, k int) partition by range(k);
create table f290_q1 partition of f290_q for values from (0) to (10);
-- [b]
create table f290_p(id int, k int) partition by range(k);
create table f290_p1 partition of f290_p for values from (0) to (10);
create table f290_p2 partition of f290_p for values from (10) to (20);
create index f290_p1_by_id on f290_p1(id);
create index f290_p2_by_id on f290_p2(id);
create index f290_p_by_id on f290_p(id);
create table f290_q(id int, k int) partition by range(k);
create table f290_q1 partition of f290_q for values from (0) to (10);
create index f290_qi on f290_q(id);
alter index f290_q1_id_idx rename to f290_q1_custom;
-- [hazards] index_build, share_lock
