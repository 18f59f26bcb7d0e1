-- Constraints named by reserved keywords ("user", "order", "check"): created, and the
-- catalog fingerprint finds them in the model (it keyed them `user`, the server `"user"`:
-- a false "not modeled" refusal, trial9 P12).
-- [a]
create table users (id int primary key);
create table f178 (id int primary key, commenter_id int, n int);
-- [b]
create table users (id int primary key);
create table f178 (id int primary key, commenter_id int, n int,
  constraint "user" foreign key (commenter_id) references users (id),
  constraint "order" unique (n),
  constraint "check" check (n > 0));
-- [hazards] access_exclusive_lock, correctness, index_build, share_row_exclusive_lock
-- [sql] CONSTRAINT "user" FOREIGN KEY
-- [sql] CONSTRAINT "check" CHECK
