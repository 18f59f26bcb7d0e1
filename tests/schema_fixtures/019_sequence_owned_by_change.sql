-- A sequence changes owner column, and another stops being owned.
-- [a]
create table a (x int, y int);
create sequence s1 owned by a.x;
create sequence s2 owned by a.x;
-- [b]
create table a (x int, y int);
create sequence s1 owned by a.y;
create sequence s2;
-- [hazards]
-- [sql] ALTER SEQUENCE public.s2 OWNED BY NONE
