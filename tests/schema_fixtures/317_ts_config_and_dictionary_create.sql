-- A dictionary, a configuration copied from english that maps to it, and a table whose
-- index names the configuration: dictionary, configuration, table, index.
-- [a]
select 1;
-- [b]
create text search dictionary d317 (template = simple, stopwords = english, accept = false);
create text search configuration c317 (copy = english);
alter text search configuration c317 alter mapping for asciiword with d317, english_stem;
create table t317 (id int, body text);
create index i317 on t317 using gin (to_tsvector('public.c317'::regconfig, body));
-- [hazards]
-- [sql] CREATE TEXT SEARCH DICTIONARY public.d317 (TEMPLATE = pg_catalog.simple, stopwords = 'english', accept = 'false')
-- [sql] CREATE TEXT SEARCH CONFIGURATION public.c317 (PARSER = pg_catalog."default")
