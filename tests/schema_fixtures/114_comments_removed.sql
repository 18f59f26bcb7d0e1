-- Comments removed from objects of many kinds, including a constraint's index.
-- [a]
create domain pos as int constraint pos_check check (value > 0);
create table t (id int constraint t_pkey primary key, n pos);
create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger t_touch before update on t for each row execute function touch();
alter table t enable row level security;
create policy p on t using (true);
comment on column t.n is 'n';
comment on index t_pkey is 'pk index';
comment on constraint t_pkey on t is 'pk';
comment on trigger t_touch on t is 'touch';
comment on policy p on t is 'everyone';
comment on domain pos is 'positive';
comment on constraint pos_check on domain pos is 'above zero';
-- [b]
create domain pos as int constraint pos_check check (value > 0);
create table t (id int constraint t_pkey primary key, n pos);
create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger t_touch before update on t for each row execute function touch();
alter table t enable row level security;
create policy p on t using (true);
-- [hazards]
