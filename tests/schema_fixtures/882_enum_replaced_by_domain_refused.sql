-- An enum replaced by a domain of the same name: the plan created the domain before dropping
-- the enum ("type already exists"; found by an outside attacker, attack9 F1). Refused.
-- [a]
create type f882_t as enum ('a', 'b');
-- [b]
create domain f882_t as text check (value in ('a', 'b'));
-- [hazards]
-- [unsupported] enum type public.f882_t is replaced by a domain of the same name
