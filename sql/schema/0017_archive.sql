-- The archive tier (revision 0017): a third state for a run, *archived*. Its events
-- leave PostgreSQL for one Parquet file (`snoopdb runs archive`: a local folder, or a
-- GCS bucket BigQuery reads), written, read back and checked before the run's events
-- table is dropped; everything else of the run stays — its audit_run row, its test
-- names and its summary partitions — so the coverage views, the stability views, the
-- dashboard and the export count it as before. audit_event has no branch for it
-- (audit_event_rebuild() writes one per hot or compact run only): its events are read
-- from the files (`snoopdb query --archive`, BigQuery). `snoopdb runs hot` brings it
-- back from its file.

ALTER TABLE audit_run DROP CONSTRAINT audit_run_state;
ALTER TABLE audit_run ADD CONSTRAINT audit_run_state
  CHECK (state IN ('hot', 'compact', 'archived', 'imported', 'loading'));
ALTER TABLE audit_run ADD COLUMN archive text;
ALTER TABLE audit_run ADD COLUMN archive_bytes bigint;
COMMENT ON COLUMN audit_run.state IS
  'hot: one row per event, indexed (runs.events_<run>); compact: chunks of 1,000 events (runs.chunks_<run>); archived: events in a Parquet file outside the database (archive), summaries kept; imported: published coverage, hits only; loading: first loaded by a transaction not yet committed';
COMMENT ON COLUMN audit_run.archive IS
  'The Parquet file the run''s events were last archived to (a path, or gs://bucket/object); null if never. Archived runs have their events there only';
COMMENT ON COLUMN audit_run.archive_bytes IS 'Size of that file in bytes';

-- A setting of this database (ALTER DATABASE … SET name = …), read from the catalog so
-- that a session started before it was set sees it too; null when not set.
CREATE FUNCTION database_setting(setting text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT substr(c, length(setting) + 2)
  FROM pg_db_role_setting s
  CROSS JOIN LATERAL unnest(s.setconfig) AS c
  WHERE s.setrole = 0
    AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND starts_with(c, setting || '=')
$$;
COMMENT ON FUNCTION database_setting(text) IS
  'The value of a setting made for this database (ALTER DATABASE … SET), null when none';

-- The archive policy: loads keep the newest N runs of each job in the database (hot or
-- compact) and archive older ones to the folder snoopdb.archive names (`snoopdb runs
-- keep-compact N --to FOLDER`). Null: no policy.
CREATE FUNCTION keep_compact_setting() RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN v ~ '^[0-9]{1,6}$' THEN v::integer END
  FROM database_setting('snoopdb.keep_compact') AS v
$$;
COMMENT ON FUNCTION keep_compact_setting() IS
  'Runs of each job that loads keep in the database, older ones archived: the database''s setting snoopdb.keep_compact, null when none';

CREATE FUNCTION archive_setting() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT nullif(database_setting('snoopdb.archive'), '')
$$;
COMMENT ON FUNCTION archive_setting() IS
  'Where loads archive runs beyond keep_compact_setting(): the database''s setting snoopdb.archive (a folder, or gs://bucket/prefix), null when none';

-- The events of hot or compact run id, one row each, as a SELECT to run (COPY … TO
-- STDOUT): n (the event's position in the run), audit_id, endpoint, useragent, test,
-- test_hit, conf_test_hit, data, error. Read from the run's own table rather than
-- through audit_event: a compact run's chunks are unnested once, data beside the
-- small columns (unnest expands audit_event_values into its fields), with no join by
-- position. Null for a run in another state.
CREATE FUNCTION audit_run_events_query(id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE r.state
    WHEN 'hot' THEN format(
      'SELECT e.n, e.audit_id, e.endpoint, e.useragent, e.test, e.test_hit,'
      ' e.conf_test_hit, e.data, e.error FROM runs.%I e', 'events_' || r.run)
    WHEN 'compact' THEN format(
      'SELECT c.first + x.i - 1 AS n, x.audit_id, x.endpoint, x.useragent, x.test,'
      ' x.test_hit, x.conf_test_hit, x.data, x.error'
      ' FROM runs.%I c CROSS JOIN LATERAL unnest(c.ev, c.data) WITH ORDINALITY'
      ' AS x(audit_id, endpoint, error, useragent, test, test_hit, conf_test_hit, data, i)',
      'chunks_' || r.run)
    END
  FROM audit_run r
  WHERE r.run = id
$$;
COMMENT ON FUNCTION audit_run_events_query(bigint) IS
  'A SELECT of hot or compact run id''s events (n, audit_id, endpoint, useragent, test, test_hit, conf_test_hit, data, error), null in another state';

-- A hot or compact run's events are in `location` (bytes long), written and checked by
-- the caller, who has held audit_run_lock(run_source) since it read them: the run's
-- events table goes, everything else of it stays. Returns the run's row (unchanged
-- when it is in another state).
CREATE FUNCTION audit_run_archive(run_source text, location text, bytes bigint)
RETURNS audit_run
LANGUAGE plpgsql AS $$
DECLARE
  r audit_run;
BEGIN
  PERFORM audit_run_lock(run_source);
  SELECT * INTO r FROM audit_run WHERE source = run_source;
  IF r.run IS NULL OR r.state NOT IN ('hot', 'compact') THEN
    RETURN r;
  END IF;
  PERFORM coverage_lock();
  UPDATE audit_run SET state = 'archived', archive = location, archive_bytes = bytes
  WHERE run = r.run;
  PERFORM audit_event_rebuild();
  EXECUTE format('DROP TABLE IF EXISTS runs.%I, runs.%I', 'events_' || r.run,
                 'chunks_' || r.run);
  SELECT * INTO r FROM audit_run WHERE run = r.run;
  RETURN r;
END
$$;
COMMENT ON FUNCTION audit_run_archive(text, text, bigint) IS
  'Mark run source archived to location (a Parquet file the caller wrote and checked): its events table is dropped, its summaries stay; returns its row';
