-- A new inheritance child and a new grandchild under it, of a parent that gains a column and
-- of a second parent that does not: both are created after the parent's ADD COLUMN, the
-- grandchild after the child, and both get B's column order.
-- [a]
create table par (id int);
create table other (o int);
-- [b]
create table par (id int, c text);
create table other (o int);
create table ch (x int) inherits (par, other);
create table gch (y int) inherits (ch);
-- [hazards]
-- [sql] CREATE TABLE public.gch
