-- Names, comments, defaults and bodies holding a line break followed by `::` (a GitHub Actions
-- workflow command at the start of a line of the plan) or `-- ` (a line that reads as a
-- comment): the plan writes them with Unicode escapes (`U&"…\000A…"`, `U&'…'`), the
-- same names and values for the server (found by an outside attacker's review).
-- [a]
create schema "s861
::error::x";
create table "s861
::error::x".f861 (id int primary key);
-- [b]
create schema "s861
::error::x";
create table "s861
::error::x".f861 (id int primary key, "b
-- DROP TABLE f861; --" int default 1, note text default 'v
::warning::w', tab text default E'a\tb');
comment on column "s861
::error::x".f861.note is 'c
-- not a comment of the plan';
create function "s861
::error::x"."f
::notice::n"() returns int language sql as $$select 1
::int$$;
create view "s861
::error::x"."v
::group::g" as select "b
-- DROP TABLE f861; --" as "c
::debug::d" from "s861
::error::x".f861;
-- [hazards]
-- [sql] ADD COLUMN note text DEFAULT
