-- Version 1: as revision 0004 created it (sql/schema/0004_live_testing.sql);
-- kept here so that revision 0009's downgrade can put it back.

CREATE OR REPLACE FUNCTION delete_older_test_events(cutoff interval) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  removed bigint;
BEGIN
  DELETE FROM testing.audit_event WHERE ingested_at < localtimestamp - cutoff;
  GET DIAGNOSTICS removed = ROW_COUNT;
  RETURN removed || ' events removed';
END;
$$;
COMMENT ON FUNCTION delete_older_test_events(interval) IS
  'Delete the events of testing.audit_event ingested longer than the interval ago; returns "N events removed"';
