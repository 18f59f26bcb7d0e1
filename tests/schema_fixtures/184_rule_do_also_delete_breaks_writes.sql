-- A DO ALSO rule whose action deletes rows: every UPDATE of an order now deletes older
-- orders, with no error — breaks_writes. A DO ALSO rule that only inserts (an audit row) is
-- the common audit pattern: no hazard.
-- [a]
create table orders (id int, total int);
create table audit_log (n int);
-- [b]
create table orders (id int, total int);
create table audit_log (n int);
create rule orders_purge as on update to orders do also delete from orders where id < new.id;
create rule orders_log as on insert to orders do also insert into audit_log values (new.id);
-- [hazards] breaks_writes
-- [hazard-text] also deletes rows on each write it catches (DO ALSO)
