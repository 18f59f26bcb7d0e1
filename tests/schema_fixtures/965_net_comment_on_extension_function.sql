-- A comment on an extension's function (F9's sibling): the member's comment is part of its
-- row's definition, so the net reports it (exit 4); the engine does not plan members.
-- [a]
create extension if not exists citext;
create table f965_t (id int);
-- [b]
create extension if not exists citext;
create table f965_t (id int);
comment on function public.citext_eq(public.citext, public.citext) is 'f965';
-- [hazards]
-- [unsupported] extension member function public.citext_eq(public.citext,public.citext) on citext differs (definition)
