-- A target whose database puts a user schema first in its search_path (app: a domain named
-- text over integer, a function named lower): the plan's unqualified built-in names (the
-- column's `text`, the CHECK's and the index's `lower(…)`) resolved to them — the column
-- became app.text and the CHECK failed after the ADD COLUMN committed. The plan pins the
-- search_path it was deparsed for (found by an outside attacker). The harness applies the
-- plan on a new session, which takes the database's search_path.
-- [a]
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = app, pg_catalog, public', current_database()); END $$;
create schema app;
create domain app.text as integer;
create function app.lower(pg_catalog.text) returns pg_catalog.text language sql as $$select 'pwned'::pg_catalog.text$$;
create table public.f860 (id int);
-- [b]
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = app, pg_catalog, public', current_database()); END $$;
create schema app;
create domain app.text as integer;
create function app.lower(pg_catalog.text) returns pg_catalog.text language sql as $$select 'pwned'::pg_catalog.text$$;
create table public.f860 (id int, name pg_catalog.text, constraint f860_lc check (pg_catalog.lower(name) = name));
create index f860_lower on public.f860 (pg_catalog.lower(name));
-- [hazards] access_exclusive_lock, correctness, index_build
-- [sql] ADD COLUMN name text
