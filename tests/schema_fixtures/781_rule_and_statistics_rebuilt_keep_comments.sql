-- A rule and an extended statistics object are created again (their definition changes): the
-- plan dropped their comments with them and never wrote them again (found by an outside
-- attacker: the plan applied, the re-diff failed). Comments on rules and statistics are
-- modeled: written again after the rebuild, and changed or removed on their own.
-- [a]
create table f781_t (id int, v int, w int);
create table f781_log (id int);
create rule f781_r as on insert to f781_t do also insert into f781_log values (new.id);
comment on rule f781_r on f781_t is 'rule comment';
create statistics f781_st on id, v from f781_t;
comment on statistics f781_st is 'statistics comment';
create rule f781_r2 as on update to f781_t do also insert into f781_log values (new.id);
comment on rule f781_r2 on f781_t is 'old';
create statistics f781_st2 on v, w from f781_t;
comment on statistics f781_st2 is 'old';
-- [b]
create table f781_t (id int, v int, w int);
create table f781_log (id int);
create rule f781_r as on insert to f781_t do also insert into f781_log values (new.id + 1);
comment on rule f781_r on f781_t is 'rule comment';
create statistics f781_st on id, v, w from f781_t;
comment on statistics f781_st is 'statistics comment';
create rule f781_r2 as on update to f781_t do also insert into f781_log values (new.id);
comment on rule f781_r2 on f781_t is 'new';
create statistics f781_st2 on v, w from f781_t;
-- [hazards]
-- [sql] COMMENT ON RULE f781_r ON public.f781_t IS 'rule comment'
-- [sql] COMMENT ON STATISTICS public.f781_st IS 'statistics comment'
