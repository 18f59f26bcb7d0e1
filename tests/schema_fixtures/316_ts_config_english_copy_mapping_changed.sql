-- A text search configuration copied from english gets a changed mapping, a dropped one
-- and another dictionary list.
-- [a]
create text search configuration my_en316 (copy = english);
-- [b]
create text search configuration my_en316 (copy = english);
alter text search configuration my_en316 alter mapping for asciiword, word with simple;
alter text search configuration my_en316 drop mapping for email, url;
alter text search configuration my_en316 alter mapping for hword with english_stem, simple;
-- [hazards] correctness
-- [sql] ALTER TEXT SEARCH CONFIGURATION public.my_en316 ALTER MAPPING FOR asciiword, word WITH pg_catalog.simple
-- [sql] ALTER TEXT SEARCH CONFIGURATION public.my_en316 DROP MAPPING FOR email, url
