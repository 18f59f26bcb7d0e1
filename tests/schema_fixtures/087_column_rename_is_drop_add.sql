-- There is no rename detection: a renamed column is a drop plus an add (the plan says data goes).
-- [a]
create table t (id int, fullname text);
-- [b]
create table t (id int, full_name text);
-- [hazards] deletes_data, access_exclusive_lock
