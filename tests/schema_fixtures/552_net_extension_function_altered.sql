-- The safety net: an extension's function altered after CREATE EXTENSION (same extension
-- version) is seen and reported.
-- [a]
create extension pg_trgm;
-- [b]
create extension pg_trgm;
alter function similarity(text, text) cost 1000;
-- [hazards]
-- [unsupported] not modeled by the schema engine: extension member function public.similarity(pg_catalog.text,pg_catalog.text) on pg_trgm differs (definition)
