-- A collation whose definition changes while an index uses it (no column does): dropping it
-- failed ("index depends on collation"). Refused loudly, like a collation under a column.
-- [a]
create collation f948_c (provider = libc, locale = 'C');
create table f948_t (id int primary key, s text);
create index f948_ti on f948_t (s collate f948_c);
-- [b]
create collation f948_c (provider = libc, locale = 'POSIX');
create table f948_t (id int primary key, s text);
create index f948_ti on f948_t (s collate f948_c);
-- [hazards]
-- [unsupported] collation public.f948_c: definition changed
