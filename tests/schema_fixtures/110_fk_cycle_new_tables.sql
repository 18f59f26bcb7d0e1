-- Two new tables that reference each other: tables first, keys after.
-- [a]
create table z (id int);
-- [b]
create table z (id int);
create table authors (id int primary key, best_book_id int);
create table books (id int primary key, author_id int not null references authors (id));
alter table authors add constraint authors_best_book_fk foreign key (best_book_id) references books (id);
-- [hazards]
