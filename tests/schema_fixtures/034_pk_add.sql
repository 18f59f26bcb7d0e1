-- A primary key on an existing table: unique index built concurrently, then USING INDEX.
-- [a]
create table t (id int not null, v text);
insert into t values (1, 'a');
-- [b]
create table t (id int primary key, v text);
-- [hazards] index_build, correctness, access_exclusive_lock
-- [sql] CREATE UNIQUE INDEX CONCURRENTLY
-- [sql] PRIMARY KEY USING INDEX
