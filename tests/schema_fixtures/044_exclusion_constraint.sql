-- An exclusion constraint on an existing table.
-- [a]
create table bookings (room int, during tstzrange);
-- [b]
create table bookings (room int, during tstzrange, constraint no_overlap exclude using gist (during with &&));
-- [hazards] access_exclusive_lock, index_build
