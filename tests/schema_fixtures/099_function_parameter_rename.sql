-- A parameter is renamed and a default removed: CREATE OR REPLACE cannot, so drop and create.
-- [a]
create function greet(who text, punct text default '!') returns text language sql as $$ select 'hi ' || who || punct $$;
create function shout(msg text default 'hey') returns text language sql as $$ select upper(msg) $$;
create view greetings as select greet('you') as g;
-- [b]
create function greet(name text, punct text default '!') returns text language sql as $$ select 'hi ' || name || punct $$;
create function shout(msg text) returns text language sql as $$ select upper(msg) $$;
create view greetings as select greet('you') as g;
-- [hazards] untrackable_dependencies
