-- Two indexes whose 63-byte names share their first 58 bytes both change: each is renamed
-- away under a name that fits 63 bytes and is unique (found by an outside attacker: with the
-- `_neon_migrate_old` suffix Postgres cut both to the same name and the plan failed).
-- [a]
create table f509_t (a int, b int);
create index f509_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_one_idx on f509_t (a);
create index f509_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_two_idx on f509_t (b);
-- [b]
create table f509_t (a int, b int);
create index f509_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_one_idx on f509_t (a, b);
create index f509_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_two_idx on f509_t (b, a);
-- [hazards] index_build, index_dropped
-- [sql] ALTER INDEX public.f509_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_one_idx RENAME TO
