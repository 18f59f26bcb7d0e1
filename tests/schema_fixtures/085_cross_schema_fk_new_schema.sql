-- A new schema whose new table references a table in another schema.
-- [a]
create table public.accounts (id int primary key);
-- [b]
create table public.accounts (id int primary key);
create schema billing;
create table billing.invoices (id int primary key, account_id int references public.accounts (id));
create view billing.open as select i.id, a.id as account from billing.invoices i join public.accounts a on a.id = i.account_id;
-- [hazards]
