create table widgets (id serial primary key);
