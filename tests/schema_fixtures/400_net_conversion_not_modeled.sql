-- The safety net: a conversion, a kind the schema engine deliberately does not model, is seen
-- by the catalog fingerprint and reported (never "no schema changes").
-- [a]
create table t (id int);
-- [b]
create table t (id int);
create conversion public.f400_conv for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;
-- [hazards]
-- [unsupported] not modeled by the schema engine: conversion public.f400_conv differs
