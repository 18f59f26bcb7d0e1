-- A new partition whose column order differs from its parent's (built on its own, then
-- attached): CREATE TABLE … PARTITION OF gave it the parent's order (found by an outside
-- attacker, e81_new_partition_col_order). It is created with its own columns and attached, after
-- its parent gains its new columns.
-- [a]
create table f292_p(id int, k int, v text) partition by range(k);
create table f292_p1 partition of f292_p for values from (0) to (10);
create table f292_q(id int, k int, primary key (id, k)) partition by list(k);
create table f292_q1 partition of f292_q for values in (1);
-- [b]
create table f292_p(id int, k int, v text) partition by range(k);
create table f292_p1 partition of f292_p for values from (0) to (10);
create table f292_p2 (v text, k int, id int);
alter table f292_p attach partition f292_p2 for values from (10) to (20);
create table f292_q(id int, k int, w text not null default 'x', primary key (id, k)) partition by list(k);
create table f292_q1 partition of f292_q for values in (1);
create table f292_q2 (w text not null default 'x', k int not null, id int not null);
alter table f292_q attach partition f292_q2 for values in (2);
-- [hazards]
