-- A view over a column whose type changes, in a plan that builds indexes concurrently
-- (attack8 F-view-window, cases/gen_deploy): it was dropped first and created again last,
-- after every build, missing meanwhile (and for good, had a build failed). Now drop, retype
-- and create run in one BEGIN … COMMIT, with the view's privileges, before the builds.
-- [a]
DO $$ BEGIN CREATE ROLE f842_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table accounts (id int primary key, email text not null);
create table orders (id int primary key, account_id int references accounts, amount numeric);
create view v_orders as select o.id, a.email, o.amount from orders o join accounts a on a.id = o.account_id;
grant select on v_orders to f842_reader;
insert into accounts values (1, 'a@x'), (2, 'b@x');
insert into orders values (1, 1, 1.5), (2, 2, 2.25);
-- [b]
DO $$ BEGIN CREATE ROLE f842_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table accounts (id int primary key, email text not null, constraint accounts_email_uq unique (email));
create table orders (id int primary key, account_id int references accounts, amount numeric(12,2));
create view v_orders as select o.id, a.email, o.amount from orders o join accounts a on a.id = o.account_id;
grant select on v_orders to f842_reader;
create index orders_account on orders (account_id);
-- [hazards] access_exclusive_lock, correctness, deletes_data, index_build, table_rewrite
-- [sql] BEGIN
-- [sql] CREATE INDEX CONCURRENTLY orders_account
-- [sql] CREATE UNIQUE INDEX CONCURRENTLY "accounts_email_uq"
