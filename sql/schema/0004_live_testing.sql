-- Live testing (revision 0004): keeping testing.audit_event, which a cluster's
-- audit webhook fills without end, from growing without bound.

-- Retention deletes by age; without this index every sweep would scan the table.
CREATE INDEX audit_event_ingested_at ON testing.audit_event (ingested_at);
COMMENT ON INDEX testing.audit_event_ingested_at IS
  'Finds the live events older than a cutoff for delete_older_test_events()';

-- snoopDB's signature and message ('N events removed'), so its docs' calls run
-- unchanged. ingested_at is a timestamp without time zone filled by now() in the
-- inserting session, so the cutoff is taken in local time the same way.
CREATE FUNCTION delete_older_test_events(cutoff interval) RETURNS text
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
