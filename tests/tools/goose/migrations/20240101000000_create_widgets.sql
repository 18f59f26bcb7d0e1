-- +goose Up
create table widgets (id serial primary key);

-- +goose Down
drop table widgets;
