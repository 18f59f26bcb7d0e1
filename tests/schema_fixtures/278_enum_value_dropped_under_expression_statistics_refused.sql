-- An enum loses a value while an extended statistics expression reads a column of it:
-- Postgres rebuilt the expression over the old type and the retype failed (attack12 N5).
-- [a]
create type f278_st as enum ('a', 'b', 'old');
create table f278_t (id int primary key, s f278_st);
create statistics f278_t_st on (s = 'a'), id from f278_t;
insert into f278_t values (1, 'a'), (2, 'b');
-- [b]
create type f278_st as enum ('a', 'b');
create table f278_t (id int primary key, s f278_st);
create statistics f278_t_st on (s = 'a'), id from f278_t;
-- [hazards]
-- [unsupported] statistics public.f278_t_st
