-- The safety net: a trigger calls a function placed in neon-migrate's own schema, which the
-- model skips; the function's body changes and is reported, not passed over.
-- [a]
create schema neon_migrate;
create function neon_migrate.f551_stamp() returns trigger language plpgsql as 'begin return new; end';
create table t (id int, note text);
create trigger t_stamp before insert on t for each row execute function neon_migrate.f551_stamp();
-- [b]
create schema neon_migrate;
create function neon_migrate.f551_stamp() returns trigger language plpgsql as 'begin new.note := ''stamped''; return new; end';
create table t (id int, note text);
create trigger t_stamp before insert on t for each row execute function neon_migrate.f551_stamp();
-- [hazards]
-- [unsupported] not modeled by the schema engine: object in a schema neon-migrate skips function neon_migrate.f551_stamp() differs (definition)
