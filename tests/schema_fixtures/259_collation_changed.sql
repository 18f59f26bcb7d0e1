-- An unused collation changes (dropped and created again); a used one changes too, and is
-- refused loudly: a collation cannot be altered under its columns.
-- [a]
create collation loose (provider = libc, locale = 'C');
create collation used_one (provider = libc, locale = 'C');
create table users (email text collate used_one);
-- [b]
create collation loose (provider = libc, locale = 'POSIX');
create collation used_one (provider = libc, locale = 'POSIX');
create table users (email text collate used_one);
-- [hazards]
-- [sql] CREATE COLLATION public.loose (provider = libc, lc_collate = 'POSIX', lc_ctype = 'POSIX')
-- [unsupported] collation public.used_one: definition changed
