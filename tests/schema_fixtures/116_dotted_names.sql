-- Names with dots inside their quotes: keys split at the last dot outside quotes. The column
-- "x.y" changes type under a view, so the view is dropped first and created again after; the
-- primary key a foreign key rests on is replaced, so the foreign key is rebuilt around it.
-- [a]
create schema "my.schema";
create table "my.schema"."a.b" (id int not null, "x.y" int, constraint "a.b_pkey" primary key (id));
create table "my.schema".orders (id int primary key, ab_id int constraint "orders.ab_fk" references "my.schema"."a.b" (id));
create view "my.schema"."v.1" as select id, "x.y" from "my.schema"."a.b";
-- [b]
create schema "my.schema";
create table "my.schema"."a.b" (id int not null, "x.y" bigint, constraint "a.b_pkey" primary key ("x.y"), constraint "a.b_id_key" unique (id));
create table "my.schema".orders (id int primary key, ab_id int constraint "orders.ab_fk" references "my.schema"."a.b" (id));
create view "my.schema"."v.1" as select id, "x.y" from "my.schema"."a.b";
-- [hazards] index_build, correctness, access_exclusive_lock, index_dropped, share_row_exclusive_lock, table_rewrite
