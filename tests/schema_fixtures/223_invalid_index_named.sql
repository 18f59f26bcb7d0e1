-- An index left INVALID on the current side (as a failed CREATE INDEX CONCURRENTLY leaves
-- it; simulated through pg_index) is refused by name as INVALID, not as a difference of
-- "definition" (trial9 P16).
-- [a]
create table f223 (id int, email text);
create index f223_email_lower on f223 (lower(email));
update pg_index set indisvalid = false where indexrelid = 'f223_email_lower'::regclass;
-- [b]
create table f223 (id int, email text);
create index f223_email_lower on f223 (lower(email));
-- [hazards]
-- [unsupported] index public.f223_email_lower on public.f223 differs (INVALID on one side
