-- A user domain, stored by a column, whose name an extension of b provides (attack
-- ex_user2ext): the domain cannot go before the extension is created without its column.
-- Refused loudly, and neither the domain nor the extension is touched.
-- [a]
create domain citext as text;
create table f949_t (id int primary key, email citext);
-- [b]
create extension citext;
create table f949_t (id int primary key, email citext);
-- [hazards]
-- [unsupported] extension citext: it provides DOMAIN public.citext
