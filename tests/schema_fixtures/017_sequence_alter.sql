-- A sequence's type, increment, bounds, cache and cycle change.
-- [a]
create sequence counter as integer;
-- [b]
create sequence counter as bigint increment by 5 minvalue 1 maxvalue 9000000000 start with 10 cache 20 cycle;
-- [hazards] correctness
-- [sql] ALTER SEQUENCE public.counter AS bigint
-- [hazard-text] CYCLE is added over 1..9000000000
