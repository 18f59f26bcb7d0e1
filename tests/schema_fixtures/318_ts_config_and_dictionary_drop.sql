-- A configuration and the dictionary it maps to go: the configuration first.
-- [a]
create table t318 (id int);
create text search dictionary d318 (template = simple);
create text search configuration c318 (parser = default);
alter text search configuration c318 add mapping for asciiword with d318;
-- [b]
create table t318 (id int);
-- [hazards]
-- [sql] DROP TEXT SEARCH CONFIGURATION public.c318
-- [sql] DROP TEXT SEARCH DICTIONARY public.d318
