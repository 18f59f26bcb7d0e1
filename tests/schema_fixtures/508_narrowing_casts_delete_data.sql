-- Narrowing type changes can lose values: the USING cast cuts strings (text → varchar(3)),
-- rounds numbers (numeric scale) and fails on values out of range (bigint → integer). Each is
-- `deletes_data`, saying how (found by an outside attacker: they were not).
-- [a]
create table f508_t (id int, code text, amount numeric(10,4), big bigint);
insert into f508_t values (1, 'ab', 1.5, 7);
-- [b]
create table f508_t (id int, code varchar(3), amount numeric(10,2), big integer);
-- [hazards] access_exclusive_lock, deletes_data, table_rewrite
-- [sql] ALTER COLUMN code TYPE character varying(3) USING code::character varying(3)
