-- A user type whose name an extension of b provides in the same schema (attack ex_user2ext):
-- the extension was created while the user type still existed.
-- [a]
create domain citext as text;
-- [b]
create extension citext;
-- [hazards]
