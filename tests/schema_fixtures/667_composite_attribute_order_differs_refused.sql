-- A composite type's attributes in another order (and one added before a kept one): Postgres
-- cannot reorder attributes and adds one last, and row constructors, (x).* and casts from
-- records see the order. The difference was silent ("no schema changes"; found by an outside
-- attacker); it is now reported loudly, as for table columns (fixture 516).
-- [a]
create type f667_ct as (a int, b text);
create type f667_added as (a int, b text);
-- [b]
create type f667_ct as (b text, a int);
create type f667_added as (a int, n date, b text);
-- [hazards]
-- [unsupported] composite type public.f667_ct: the attribute order differs (a, b → b, a)
-- [unsupported] composite type public.f667_added: the attribute order differs (a, b, n → a, n, b)
