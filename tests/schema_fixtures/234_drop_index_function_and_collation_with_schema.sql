-- A schema goes with a table, a function its expression index calls (returning an
-- extension's type, the extension goes too) and a collation an index uses: the function and
-- the collation were dropped after DROP EXTENSION and DROP SCHEMA (MusicBrainz; trial9 P7,
-- P8). Extensions and schemas go after every member they hold or serve.
-- [a]
create extension cube;
create schema f234;
create function f234.to_cube(float8, float8) returns public.cube language sql immutable strict parallel safe
as 'select public.cube(array[$1, $2])';
create collation f234.coll (provider = libc, locale = 'C');
create table f234.place (id int primary key, x float8, y float8, name text);
create index f234_geo on f234.place using gist (f234.to_cube(x, y));
create index f234_name on f234.place (name collate f234.coll);
-- [b]
create table f234_keep(id int);
-- [hazards] deletes_data, access_exclusive_lock, untrackable_dependencies
