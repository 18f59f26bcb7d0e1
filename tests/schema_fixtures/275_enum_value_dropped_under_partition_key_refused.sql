-- An enum loses a value while it is a list partition key's type: the retype Postgres refuses
-- (part of the partition key) came after the enum's rename, and the plan had already detached
-- a partition (attack12 N2: its rows left the table). Refused, naming the key.
-- [a]
create type f275_st as enum ('a', 'b', 'old');
create table f275_p (id int, s f275_st) partition by list (s);
create table f275_pa partition of f275_p for values in ('a');
create table f275_pb partition of f275_p for values in ('b', 'old');
insert into f275_p values (1, 'a'), (2, 'b'), (3, 'b');
-- [b]
create type f275_st as enum ('a', 'b');
create table f275_p (id int, s f275_st) partition by list (s);
create table f275_pa partition of f275_p for values in ('a');
create table f275_pb partition of f275_p for values in ('b');
-- [hazards] access_exclusive_lock, correctness
-- [unsupported] the partition key of public.f275_p
