-- An enum loses a value while a rule on a table reads a column of it: Postgres refuses the
-- retype (used by a view or rule) after the rename, and a trigger dropped for the retype
-- stayed dropped (attack12 N4). Refused.
-- [a]
create type f277_st as enum ('a', 'b', 'old');
create table f277_w (id int primary key, s f277_st);
create table f277_log (id int);
create rule f277_wr as on update to f277_w where new.s = 'a' do also insert into f277_log values (new.id);
insert into f277_w values (1, 'a');
-- [b]
create type f277_st as enum ('a', 'b');
create table f277_w (id int primary key, s f277_st);
create table f277_log (id int);
create rule f277_wr as on update to f277_w where new.s = 'a' do also insert into f277_log values (new.id);
-- [hazards]
-- [unsupported] f277_wr
