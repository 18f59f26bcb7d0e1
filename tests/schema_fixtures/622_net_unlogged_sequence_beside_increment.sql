-- A sequence made UNLOGGED while its INCREMENT changes (F24): the model has no persistence,
-- and the change it does have used to explain the whole sequence (exit 0, stays logged).
-- [a]
create sequence s622;
-- [b]
create unlogged sequence s622 increment 2;
-- [hazards]
-- [unsupported] not modeled by the schema engine: sequence public.s622 differs (persistence)
