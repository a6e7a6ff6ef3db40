-- Live events found by auditID within their source (revision 0018). The API server
-- resends a batch whose 200 it did not receive; the auditlogger stores only the events
-- of a batch that its source has not stored yet (same auditID and stage), and reads
-- which those are through this index, whatever the size of testing.audit_event.
CREATE INDEX audit_event_source_audit_id ON testing.audit_event (source, audit_id);
COMMENT ON INDEX testing.audit_event_source_audit_id IS
  'The auditlogger''s look-up of a batch''s auditIDs already stored from its source (a resent batch is stored once)';

-- Runs dropped together (revision 0018): `runs drop`, `runs prune` and `releases drop`
-- drop runs in batches, each batch in a transaction of its own, so that no transaction
-- holds a lock on every table of a thousand runs (PostgreSQL's lock table is shared,
-- max_locks_per_transaction × max_connections entries); audit_event is rewritten once
-- per batch rather than once per run. Returns each dropped run's row.
CREATE FUNCTION audit_runs_drop(run_sources text[]) RETURNS SETOF audit_run
LANGUAGE plpgsql AS $$
DECLARE
  dropped audit_run;
  gone audit_run[] := '{}';
  run_source text;
  kind text;
BEGIN
  FOREACH run_source IN ARRAY run_sources LOOP
    PERFORM audit_run_lock(run_source);
  END LOOP;
  PERFORM coverage_lock();
  FOR dropped IN DELETE FROM audit_run WHERE source = ANY (run_sources) RETURNING * LOOP
    gone := gone || dropped;
  END LOOP;
  IF EXISTS (SELECT FROM unnest(gone) g WHERE g.state IN ('hot', 'compact')) THEN
    PERFORM audit_event_rebuild();
  END IF;
  FOREACH dropped IN ARRAY gone LOOP
    EXECUTE format('DROP TABLE IF EXISTS runs.%I, runs.%I', 'events_' || dropped.run,
                   'chunks_' || dropped.run);
    FOREACH kind IN ARRAY ARRAY['test', 'hit', 'field_hit', 'body_hit'] LOOP
      EXECUTE format('DROP TABLE IF EXISTS runs.%I', kind || '_' || dropped.run);
    END LOOP;
    RETURN NEXT dropped;
  END LOOP;
END
$$;
COMMENT ON FUNCTION audit_runs_drop(text[]) IS
  'Drop the runs run_sources name (their events, summary partitions and rows), audit_event rewritten once; returns their rows';
