-- A sequence's bounds narrow: fails if its current value is outside them (a hazard).
-- [a]
create sequence ids as bigint;
-- [b]
create sequence ids as integer maxvalue 100000;
-- [hazards] correctness
