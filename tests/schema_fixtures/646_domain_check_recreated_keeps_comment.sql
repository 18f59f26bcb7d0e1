-- A domain CHECK constraint changes: it is dropped and added again, and gets its comment back.
-- [a]
create domain d as int constraint dc check (value > 0);
comment on constraint dc on domain d is 'dc comment';
-- [b]
create domain d as int constraint dc check (value > 1);
comment on constraint dc on domain d is 'dc comment';
-- [hazards] correctness
-- [sql] COMMENT ON CONSTRAINT dc ON DOMAIN public.d IS 'dc comment'
