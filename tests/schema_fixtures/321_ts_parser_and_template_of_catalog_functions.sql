-- Text search parsers and templates made of pg_catalog's functions: created (they were refused
-- as unsupported objects; see also 749–751).
-- [a]
select 1;
-- [b]
create text search parser p321 (start = prsd_start, gettoken = prsd_nexttoken, end = prsd_end, lextypes = prsd_lextype, headline = prsd_headline);
create text search template t321 (init = dsimple_init, lexize = dsimple_lexize);
-- [hazards] correctness
-- [sql] CREATE TEXT SEARCH PARSER public.p321 (START = pg_catalog.prsd_start, GETTOKEN = pg_catalog.prsd_nexttoken, END = pg_catalog.prsd_end, LEXTYPES = pg_catalog.prsd_lextype, HEADLINE = pg_catalog.prsd_headline)
-- [sql] CREATE TEXT SEARCH TEMPLATE public.t321 (INIT = pg_catalog.dsimple_init, LEXIZE = pg_catalog.dsimple_lexize)
