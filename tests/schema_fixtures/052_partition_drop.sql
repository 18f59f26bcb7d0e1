-- A partition goes with its rows.
-- [a]
create table logs (at date not null, msg text) partition by range (at);
create table logs_2023 partition of logs for values from ('2023-01-01') to ('2024-01-01');
create table logs_2024 partition of logs for values from ('2024-01-01') to ('2025-01-01');
-- [b]
create table logs (at date not null, msg text) partition by range (at);
create table logs_2024 partition of logs for values from ('2024-01-01') to ('2025-01-01');
-- [hazards] deletes_data, access_exclusive_lock
