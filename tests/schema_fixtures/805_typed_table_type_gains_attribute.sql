-- A composite type with a typed table (CREATE TABLE … OF) gains an attribute: the plan said
-- ALTER TYPE … ADD ATTRIBUTE (refused: the type of a typed table needs CASCADE) and
-- ALTER TABLE … ADD COLUMN (refused on a typed table), exit 0 (found by an outside
-- attacker). Now ALTER TYPE … ADD ATTRIBUTE … CASCADE, and the new column's default after it.
-- [a]
create type f805_ct as (a int, b text);
create table f805_typed of f805_ct;
insert into f805_typed values (1, 'x');
-- [b]
create type f805_ct as (a int, b text, c date);
create table f805_typed of f805_ct (c with options default '2020-01-01');
-- [hazards] access_exclusive_lock
-- [sql] ALTER TYPE public.f805_ct ADD ATTRIBUTE c date CASCADE;
-- [sql] ALTER TABLE public.f805_typed ALTER COLUMN c SET DEFAULT
