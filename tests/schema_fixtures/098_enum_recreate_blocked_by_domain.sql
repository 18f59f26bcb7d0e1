-- An enum that must be recreated but a domain is built on it: reported, not half done.
-- [a]
create type tag as enum ('a', 'b', 'c');
create domain main_tag as tag;
create table items (id int primary key, main main_tag);
-- [b]
create type tag as enum ('c', 'b', 'a');
create domain main_tag as tag;
create table items (id int primary key, main main_tag);
-- [hazards]
-- [unsupported] enum public.tag: values are removed or reordered
