-- A range type's owner changes, and its multirange's with it: ALTER TYPE … OWNER TO on the
-- range does not move the multirange on PostgreSQL 15 (16 on does,
-- and refuses to alter the multirange alone; found by an outside attacker, e40_type_owner_acl). A new range, its
-- multirange named, under another owner too.
-- [a]
DO $$ BEGIN CREATE ROLE nm_293_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create type f293_r as range (subtype = int4);
-- [b]
DO $$ BEGIN CREATE ROLE nm_293_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create type f293_r as range (subtype = int4);
alter type f293_r owner to nm_293_r;
DO $$ BEGIN ALTER TYPE f293_r_multirange OWNER TO nm_293_r; EXCEPTION WHEN wrong_object_type THEN NULL; END $$;
create type f293_s as range (subtype = int8, multirange_type_name = f293_s_many);
alter type f293_s owner to nm_293_r;
DO $$ BEGIN ALTER TYPE f293_s_many OWNER TO nm_293_r; EXCEPTION WHEN wrong_object_type THEN NULL; END $$;
-- [hazards] authz_update
-- [sql] ALTER TYPE public.f293_r_multirange OWNER TO nm_293_r
-- [sql] ALTER TYPE public.f293_s_many OWNER TO nm_293_r
