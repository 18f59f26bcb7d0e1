-- +goose Up
alter table widgets add column name text;

-- +goose Down
alter table widgets drop column name;
