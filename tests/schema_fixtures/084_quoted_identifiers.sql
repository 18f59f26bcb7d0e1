-- Names that need quoting everywhere: mixed case, spaces, keywords.
-- [a]
create schema "Sales Dept";
create table "Sales Dept"."Order" ("Id" int primary key, "select" text);
-- [b]
create schema "Sales Dept";
create type "Sales Dept"."Order State" as enum ('New', 'Paid');
create table "Sales Dept"."Order" ("Id" int primary key, "select" varchar(10) not null, "State" "Sales Dept"."Order State");
create index "Order By State" on "Sales Dept"."Order" ("State");
create view "Sales Dept"."Open Orders" as select "Id" from "Sales Dept"."Order" where "State" = 'New';
comment on column "Sales Dept"."Order"."select" is 'a keyword';
-- [hazards] access_exclusive_lock, correctness, deletes_data, index_build, table_rewrite
