-- A dictionary a configuration uses changes its options (one removed, one changed): in place.
-- [a]
create text search dictionary d319 (template = simple, stopwords = english, accept = false);
create text search configuration c319 (parser = default);
alter text search configuration c319 add mapping for asciiword with d319;
-- [b]
create text search dictionary d319 (template = simple, stopwords = russian);
create text search configuration c319 (parser = default);
alter text search configuration c319 add mapping for asciiword with d319;
-- [hazards] correctness
-- [sql] ALTER TEXT SEARCH DICTIONARY public.d319 (stopwords = 'russian', accept)
