-- migrate:up
alter table widgets add column name text;

-- migrate:down
alter table widgets drop column name;
