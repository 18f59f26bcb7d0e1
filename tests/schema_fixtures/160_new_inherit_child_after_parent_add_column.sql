-- A parent gains a column; B's kept child declares its own column after it (B created fresh):
-- ADD COLUMN on the parent puts it after the child's last column, so the applied plan left
-- (id, a, b, c) where B has (id, a, c, b), and only the re-diff refused it (attack10 d06).
-- Refused by the first plan now. The new child ch2 beside it is created after the parent's
-- ADD COLUMN and gets B's order (id, a, c, b2).
-- [a]
create table par (id int, a text);
create table ch (b int) inherits (par);
-- [b]
create table par (id int, a text, c int default 0);
create table ch (b bigint) inherits (par);
create table ch2 (b2 int) inherits (par);
-- [hazards] access_exclusive_lock, table_rewrite
-- [unsupported] the column order differs
-- [sql] CREATE TABLE public.ch2
