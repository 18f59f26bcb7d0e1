alter table widgets drop column name;
