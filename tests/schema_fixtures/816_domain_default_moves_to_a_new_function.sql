-- A domain's DEFAULT moving from a function that goes to a new one: the default was set before
-- the new function existed, and written unqualified (`pg_type.typdefault` is the text as its
-- creator's search_path deparsed it; found by an outside attacker). It is deparsed again,
-- qualified, and set after the functions.
-- [a]
create function f816_d1() returns int language sql as 'select 1';
create domain f816_dd as int default f816_d1();
-- [b]
create function f816_d2() returns int language sql as 'select 2';
create domain f816_dd as int default f816_d2();
-- [hazards] untrackable_dependencies
-- [sql] ALTER DOMAIN public.f816_dd SET DEFAULT public.f816_d2()
