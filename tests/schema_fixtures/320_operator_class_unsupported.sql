-- Operator classes and families are not modelled: refused, naming them.
-- [a]
create table t320 (id int);
-- [b]
create table t320 (id int);
create operator class c320 for type int using btree as operator 1 <, function 1 btint4cmp(int, int);
-- [hazards]
-- [unsupported] operator class public.c320 using btree: added
-- [unsupported] operator family public.c320 using btree: added
