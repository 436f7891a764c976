-- 0005: announce every committed change to the data on the NOTIFY channel
-- "openbook_change".  The workers listen and empty their response caches
-- (cache.h) when it speaks.  NOTIFY is transactional: nothing is announced
-- for a rolled-back change, and a committed one is announced after the
-- COMMIT, to the committing session itself together with the COMMIT's
-- answer.  Repeats within one transaction are folded into one by
-- PostgreSQL, and the triggers are per statement, so a bulk change costs
-- one announcement.
--
-- ob_track_changes() puts the trigger on every table of the schema but
-- the few that nothing cached is read from (the mail queue, signing keys,
-- the migration log).  Sessions are tracked: the workers cache who a
-- session belongs to, and a logout must end it at once.  `openbook migrate` calls it after each run, so the tables of
-- later migrations are tracked without anyone remembering to.

CREATE FUNCTION ob_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('openbook_change', '');
    RETURN NULL;
END $$;

CREATE FUNCTION ob_track_changes() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
          AND c.relname NOT IN ('mail_outbox', 'auth_keys', 'schema_migrations')
          AND NOT EXISTS (SELECT 1 FROM pg_trigger g
                          WHERE g.tgrelid = c.oid AND g.tgname = 'ob_announce_change')
    LOOP
        EXECUTE format('CREATE TRIGGER ob_announce_change'
                       ' AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION ob_announce_change()', t);
    END LOOP;
END $$;

SELECT ob_track_changes();
