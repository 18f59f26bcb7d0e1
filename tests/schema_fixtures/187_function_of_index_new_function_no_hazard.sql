-- The fix: the new body as a new function with a new index over it. No stored use of a changed
-- function: no breaks_writes.
-- [a]
create function norm(t text) returns text language sql immutable as $$ select lower(t) $$;
create table users (id int, email text);
create unique index users_email on users (norm(email));
-- [b]
create function norm(t text) returns text language sql immutable as $$ select lower(t) $$;
create function norm2(t text) returns text language sql immutable as $$ select upper(t) $$;
create table users (id int, email text);
create unique index users_email on users (norm(email));
create unique index users_email2 on users (norm2(email));
-- [hazards] index_build
