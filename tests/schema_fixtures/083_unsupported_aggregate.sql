-- A user-defined aggregate is not modelled: the plan says so.
-- [a]
create table t (v int);
-- [b]
create table t (v int);
create aggregate my_sum (int) (sfunc = int4pl, stype = int);
-- [hazards]
-- [unsupported] aggregate public.my_sum(integer): added
