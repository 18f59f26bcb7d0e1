-- An IMMUTABLE function used by a unique expression index, an index predicate, a CHECK, a
-- stored generated column and a domain, changed in place: what was stored with the old body
-- is not recomputed (wrong index answers, duplicates, rows failing the CHECK) — breaks_writes
-- naming each use.
-- [a]
create function norm(t text) returns text language sql immutable as $$ select lower(t) $$;
create domain normed as text check (norm(value) = value);
create table users (id int, email text, code text check (norm(code) = code), n text generated always as (norm(email)) stored, d normed);
create unique index users_email on users (norm(email));
create index users_some on users (id) where norm(email) <> '';
-- [b]
create function norm(t text) returns text language sql immutable as $$ select upper(t) $$;
create domain normed as text check (norm(value) = value);
create table users (id int, email text, code text check (norm(code) = code), n text generated always as (norm(email)) stored, d normed);
create unique index users_email on users (norm(email));
create index users_some on users (id) where norm(email) <> '';
-- [hazards] breaks_writes
-- [hazard-text] index public.users_email
-- [hazard-text] index public.users_some
-- [hazard-text] constraint public.users.users_code_check
-- [hazard-text] generated column public.users.n
-- [hazard-text] domain public.normed
