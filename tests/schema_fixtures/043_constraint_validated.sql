-- NOT VALID constraints become valid: only VALIDATE runs.
-- [a]
create table p (id int primary key);
create table t (id int primary key, price numeric, p_id int);
alter table t add constraint price_positive check (price > 0) not valid;
alter table t add constraint t_p_fk foreign key (p_id) references p (id) not valid;
-- [b]
create table p (id int primary key);
create table t (id int primary key, price numeric, p_id int);
alter table t add constraint price_positive check (price > 0);
alter table t add constraint t_p_fk foreign key (p_id) references p (id);
-- [hazards] correctness
