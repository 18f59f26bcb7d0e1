-- An unused collation changes (dropped and created again); a used one changes too, and is
-- refused loudly: a collation cannot be altered under its columns.
-- [a]
create collation loose (provider = icu, locale = 'und-u-ks-level1', deterministic = false);
create collation used_one (provider = icu, locale = 'und-u-ks-level1', deterministic = false);
create table users (email text collate used_one);
-- [b]
create collation loose (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
create collation used_one (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
create table users (email text collate used_one);
-- [hazards]
-- [sql] CREATE COLLATION public.loose (provider = icu, locale = 'und-u-ks-level2', deterministic = false)
-- [unsupported] collation public.used_one: definition changed
