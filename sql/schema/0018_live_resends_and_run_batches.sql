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

-- A run's first load rewrites audit_event once, not twice (revision 0018): the rewrite
-- without the run was needed only to drop its old table, which a first load lacks. A
-- rewrite names every run's table, so a load at many runs cost twice that.
CREATE OR REPLACE FUNCTION audit_run_swap_events(id bigint, fresh_table text, new_state text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  final text := CASE new_state WHEN 'hot' THEN 'events_' ELSE 'chunks_' END || id;
BEGIN
  -- audit_event names the run's old table, if it has one: the view is rewritten without
  -- it before the table goes. A first load has none: the view is rewritten once.
  IF to_regclass(format('runs.%I', 'events_' || id)) IS NOT NULL
     OR to_regclass(format('runs.%I', 'chunks_' || id)) IS NOT NULL THEN
    PERFORM audit_event_rebuild(id);
    EXECUTE format('DROP TABLE IF EXISTS runs.%I, runs.%I', 'events_' || id, 'chunks_' || id);
  END IF;
  EXECUTE format('ALTER TABLE runs.%I RENAME TO %I', fresh_table, final);
  IF new_state = 'hot' THEN
    PERFORM audit_run_index(id);
  ELSE
    EXECUTE format('ALTER TABLE runs.%I ADD CONSTRAINT %I PRIMARY KEY (first)',
                   final, final || '_pkey');
  END IF;
  UPDATE audit_run SET state = new_state WHERE run = id AND state IS DISTINCT FROM new_state;
  PERFORM audit_event_rebuild();
END
$$;
