alter table widgets add column name text;
