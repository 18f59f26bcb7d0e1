-- A text search parser whose functions change cannot be altered: refused, naming it.
-- [a]
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
-- [b]
create function my_start(internal, integer) returns internal language internal strict as 'prsd_start';
create function my_token(internal, internal, internal) returns internal language internal strict as 'prsd_nexttoken';
create function my_end(internal) returns void language internal strict as 'prsd_end';
create function my_lextype(internal) returns internal language internal strict as 'prsd_lextype';
create text search parser myprs (start = my_start, gettoken = my_token, end = my_end, lextypes = my_lextype);
create function my_init(internal) returns internal language internal strict as 'dsimple_init';
create function my_lexize(internal, internal, internal, internal) returns internal language internal strict as 'dsimple_lexize';
create text search template mytmpl (init = my_init, lexize = my_lexize);
create text search template mytmpl2 (lexize = my_lexize);
create text search dictionary mydict (template = mytmpl);
create text search configuration mycfg (parser = myprs);
alter text search configuration mycfg add mapping for word, asciiword with mydict;
create table docs (id int, body text, tsv tsvector generated always as (to_tsvector('public.mycfg', body)) stored);
-- [hazards]
-- [unsupported] text search parser public.myprs: its functions change
