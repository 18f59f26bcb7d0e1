-- migrate:up
create table widgets (id serial primary key);

-- migrate:down
drop table widgets;
