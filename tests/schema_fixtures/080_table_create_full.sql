-- A new table with every column feature, constraints, indexes, comments and RLS.
-- [a]
create table customers (id bigint primary key);
-- [b]
create table customers (id bigint primary key);
create type state as enum ('new', 'paid');
create table orders (
  id bigint generated always as identity primary key,
  customer_id bigint not null references customers (id) on delete cascade,
  code text collate "C" not null unique,
  state state not null default 'new',
  qty int not null default 1 check (qty > 0),
  price numeric(10, 2) not null,
  total numeric generated always as (qty * price) stored,
  during tstzrange,
  created_at timestamptz not null default now(),
  exclude using gist (during with &&)
) with (fillfactor = 90);
create index orders_customer on orders (customer_id) where state = 'new';
comment on table orders is 'all orders';
comment on column orders.total is 'qty × price';
alter table orders enable row level security;
create policy by_customer on orders using (customer_id > 0);
-- [hazards] authz_update
