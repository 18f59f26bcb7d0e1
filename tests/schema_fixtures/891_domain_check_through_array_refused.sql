-- A CHECK added to a domain that an array column uses can never be validated ("cannot alter
-- type because column t.xs uses it", whatever the data; attack9 F12). Refused, naming it.
-- [a]
create domain f891_pos as int;
create table f891_t (id int primary key, xs f891_pos[]);
-- [b]
create domain f891_pos as int check (value > 0);
create table f891_t (id int primary key, xs f891_pos[]);
-- [hazards]
-- [unsupported] column public.f891_t.xs stores the domain inside an array
