-- An exclusion constraint over a user operator (and its operator class) that b replaces with
-- another (attack o_excl_op): the old operator must not go before the old constraint.
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
