-- A text search parser and templates made of the database's own functions (here `LANGUAGE
-- internal` wrappers; danbooru's parser uses C functions of a library, no extension), with a
-- dictionary and configuration over them and a generated column using the configuration:
-- created after the functions and before what uses them (they were refused as unsupported).
-- [a]
select 1;
-- [b]
create function my_start(internal, integer) returns internal language internal strict as 'prsd_start';
create function my_token(internal, internal, internal) returns internal language internal strict as 'prsd_nexttoken';
create function my_end(internal) returns void language internal strict as 'prsd_end';
create function my_lextype(internal) returns internal language internal strict as 'prsd_lextype';
create text search parser myprs (start = my_start, gettoken = my_token, end = my_end, lextypes = my_lextype, headline = prsd_headline);
create function my_init(internal) returns internal language internal strict as 'dsimple_init';
create function my_lexize(internal, internal, internal, internal) returns internal language internal strict as 'dsimple_lexize';
create text search template mytmpl (init = my_init, lexize = my_lexize);
create text search template mytmpl2 (lexize = my_lexize);
create text search dictionary mydict (template = mytmpl);
create text search configuration mycfg (parser = myprs);
alter text search configuration mycfg add mapping for word, asciiword with mydict;
create table docs (id int, body text, tsv tsvector generated always as (to_tsvector('public.mycfg', body)) stored);
-- [hazards] correctness
-- [sql] CREATE TEXT SEARCH PARSER public.myprs (START = public.my_start, GETTOKEN = public.my_token, END = public.my_end, LEXTYPES = public.my_lextype, HEADLINE = pg_catalog.prsd_headline)
-- [sql] CREATE TEXT SEARCH TEMPLATE public.mytmpl (INIT = public.my_init, LEXIZE = public.my_lexize)
-- [sql] CREATE TEXT SEARCH TEMPLATE public.mytmpl2 (LEXIZE = public.my_lexize)
