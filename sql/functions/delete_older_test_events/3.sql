-- Version 3 (revision 0019): the live depth tallies go with their events too.

CREATE OR REPLACE FUNCTION delete_older_test_events(cutoff interval) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  removed bigint;
BEGIN
  DELETE FROM testing.audit_event WHERE ingested_at < localtimestamp - cutoff;
  GET DIAGNOSTICS removed = ROW_COUNT;
  DELETE FROM testing.field_hit WHERE ingested_at < localtimestamp - cutoff;
  DELETE FROM testing.body_hit WHERE ingested_at < localtimestamp - cutoff;
  DELETE FROM testing.param_hit WHERE ingested_at < localtimestamp - cutoff;
  DELETE FROM testing.status_hit WHERE ingested_at < localtimestamp - cutoff;
  RETURN removed || ' events removed';
END;
$$;
COMMENT ON FUNCTION delete_older_test_events(interval) IS
  'Delete the live events (testing.audit_event) and their field and depth tallies ingested longer than the interval ago; returns "N events removed"';
