-- An index whose collation is replaced: b drops the old collation and creates another, which
-- the index now uses (attack o_idx_coll). The old collation was dropped while the old index
-- still used it, so the plan failed half-way.
-- [a]
create collation f940_c1 (provider = libc, locale = 'C');
create table f940_t (id int primary key, s text);
create index f940_ti on f940_t (s collate f940_c1);
-- [b]
create collation f940_c2 (provider = libc, locale = 'POSIX');
create table f940_t (id int primary key, s text);
create index f940_ti on f940_t (s collate f940_c2);
-- [hazards] index_build, index_dropped
