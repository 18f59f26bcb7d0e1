-- An ICU collation is created and used by a new column, a new table and a domain.
-- [a]
create table users (id int primary key);
-- [b]
create collation ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
create collation c_bytes (provider = libc, locale = 'C');
create domain ci_text as text collate ci;
create table users (id int primary key, email text collate ci, code text collate c_bytes);
create table tags (name ci_text, label text collate ci);
-- [hazards]
-- [sql] CREATE COLLATION public.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)
