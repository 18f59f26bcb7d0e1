-- Collations are created before the domain, the new column and the new table that use
-- them (libc: the PostgreSQL builds of the test matrix other than Debian's have no ICU).
-- [a]
create table users (id int primary key);
-- [b]
create collation c_bytes (provider = libc, locale = 'C');
create collation posix_text (lc_collate = 'POSIX', lc_ctype = 'POSIX');
create domain code_text as text collate c_bytes;
create table users (id int primary key, email text collate c_bytes, code code_text);
create table tags (name text collate posix_text);
-- [hazards]
-- [sql] CREATE COLLATION public.c_bytes (provider = libc, lc_collate = 'C', lc_ctype = 'C')
