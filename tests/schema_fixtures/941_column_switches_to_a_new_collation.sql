-- A column (and an index on it) whose collation is replaced by a new one: the column is
-- altered to the new collation before the old one is dropped.
-- [a]
create collation f941_c1 (provider = libc, locale = 'C');
create table f941_t (id int primary key, s text collate f941_c1);
create index f941_ti on f941_t (s);
-- [b]
create collation f941_c2 (provider = libc, locale = 'POSIX');
create table f941_t (id int primary key, s text collate f941_c2);
create index f941_ti on f941_t (s);
-- [hazards] access_exclusive_lock, index_build
