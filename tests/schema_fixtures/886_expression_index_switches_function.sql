-- An expression index that switches to a new function: the old function was dropped while the
-- old (renamed) index still used it, in a plan without a transaction (attack9 F5). The old
-- function goes after the old index now.
-- [a]
create function f886_k1(int) returns int language sql immutable as 'select $1 % 10';
create table f886_t (id int primary key, x int);
create index f886_ti on f886_t (f886_k1(x));
-- [b]
create function f886_k2(int) returns int language sql immutable as 'select $1 % 7';
create table f886_t (id int primary key, x int);
create index f886_ti on f886_t (f886_k2(x));
-- [hazards] index_build, index_dropped, untrackable_dependencies
