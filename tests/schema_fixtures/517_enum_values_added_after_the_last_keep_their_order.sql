-- Two values added after the last one: each was placed AFTER the last old value, which put
-- them in reverse (d, e, f where the desired order is d, f, e; found by an outside attacker).
-- Each now goes after the value just before it.
-- [a]
create type f517 as enum ('a', 'd');
-- [b]
create type f517 as enum ('a', 'b', 'd', 'f', 'e');
-- [hazards]
