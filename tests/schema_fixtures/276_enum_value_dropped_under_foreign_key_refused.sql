-- An enum loses a value while a foreign key joins two columns of it: the first retype made the
-- key's columns incompatible types, after the rename had committed (attack12 N3). Refused.
-- [a]
create type f276_st as enum ('a', 'b', 'old');
create table f276_kinds (k f276_st primary key);
create table f276_items (id int primary key, k f276_st references f276_kinds);
insert into f276_kinds values ('a'), ('b'); insert into f276_items values (1, 'a'), (2, 'b');
-- [b]
create type f276_st as enum ('a', 'b');
create table f276_kinds (k f276_st primary key);
create table f276_items (id int primary key, k f276_st references f276_kinds);
-- [hazards]
-- [unsupported] foreign key public.f276_items.f276_items_k_fkey
