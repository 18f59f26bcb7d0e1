-- Text search parsers and templates (C functions) are not modelled: refused, naming them.
-- [a]
select 1;
-- [b]
create text search parser p321 (start = prsd_start, gettoken = prsd_nexttoken, end = prsd_end, lextypes = prsd_lextype, headline = prsd_headline);
create text search template t321 (init = dsimple_init, lexize = dsimple_lexize);
-- [hazards]
-- [unsupported] text search parser public.p321: added
-- [unsupported] text search template public.t321: added
