-- Version 2 (revision 0009): the live field tallies go with their events, by
-- the same cutoff; the message still counts events, as snoopDB's does.

CREATE OR REPLACE FUNCTION delete_older_test_events(cutoff interval) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  removed bigint;
BEGIN
  DELETE FROM testing.audit_event WHERE ingested_at < localtimestamp - cutoff;
  GET DIAGNOSTICS removed = ROW_COUNT;
  DELETE FROM testing.field_hit WHERE ingested_at < localtimestamp - cutoff;
  DELETE FROM testing.body_hit WHERE ingested_at < localtimestamp - cutoff;
  RETURN removed || ' events removed';
END;
$$;
COMMENT ON FUNCTION delete_older_test_events(interval) IS
  'Delete the live events (testing.audit_event) and their field tallies ingested longer than the interval ago; returns "N events removed"';
