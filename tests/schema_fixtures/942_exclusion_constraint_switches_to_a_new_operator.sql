-- An exclusion constraint over a user operator and operator class that b replaces with
-- another (attack o_excl_op). Operator classes are refused; the rest of the plan dropped the
-- operator the old class still holds and added a constraint over the class it cannot create,
-- and failed half-way. Both are left as they are now, and said.
-- [a]
create function f942_eq1(int, int) returns boolean language sql immutable as 'select $1 = $2';
create operator === (function = f942_eq1, leftarg = int, rightarg = int, commutator = ===);
create operator class f942_ops1 for type int using hash as operator 1 ===, function 1 hashint4(int);
create table f942_t (id int primary key, x int, exclude using hash (x f942_ops1 with ===));
-- [b]
create function f942_eq2(int, int) returns boolean language sql immutable as 'select $1 = $2';
create operator ==== (function = f942_eq2, leftarg = int, rightarg = int, commutator = ====);
create operator class f942_ops2 for type int using hash as operator 1 ====, function 1 hashint4(int);
create table f942_t (id int primary key, x int, exclude using hash (x f942_ops2 with ====));
-- [hazards]
-- [unsupported] operator class public.f942_ops2 using hash: added
-- [unsupported] constraint f942_t_x_excl on public.f942_t: uses an operator class the plan cannot create
-- [unsupported] operator public.===(integer, integer): goes, but an operator family uses it
-- [no-sql] DROP OPERATOR
