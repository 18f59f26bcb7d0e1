-- An identity column becomes a plain column (its sequence goes with the identity).
-- [a]
create table a (id bigint generated always as identity primary key, v text);
-- [b]
create table a (id bigint not null primary key, v text);
-- [hazards]
-- [sql] DROP IDENTITY
