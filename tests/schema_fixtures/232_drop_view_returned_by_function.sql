-- A view and a function returning its row type both go: the view was dropped first (`cannot
-- drop view … function single_article(integer) depends on type articles`; trial9 P4). What
-- uses a relation's row type goes before the relation.
-- [a]
create table f232_articles_t (id int primary key, body text);
create view f232_articles as select * from f232_articles_t;
create function f232_single(id integer) returns f232_articles language sql as $$ select a.* from f232_articles a where a.id = $1 $$;
create view f232_uses as select (f232_single(1)).body;
-- [b]
create table f232_keep(id int);
-- [hazards] deletes_data, access_exclusive_lock, untrackable_dependencies
