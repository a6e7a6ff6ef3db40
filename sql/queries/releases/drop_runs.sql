-- The CI runs and imported coverage of release %(release)s dropped (their events, their
-- summaries, their row) by audit_run_drop(): the one place `snoopdb releases drop` knows
-- how runs are stored. Returns each run's source and its number of events.
SELECT r.source, (audit_run_drop(r.source)).events AS events
FROM audit_run r
WHERE r.release = %(release)s
ORDER BY r.source;
