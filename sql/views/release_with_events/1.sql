-- The releases whose runs logged events (hot, compact or archived runs: imported
-- published coverage has hits but no events): the depth views know what their
-- parameters and status codes were; of the others, nothing.

CREATE VIEW release_with_events AS
SELECT DISTINCT release
FROM audit_run
WHERE state IN ('hot', 'compact', 'archived') AND events > 0;

COMMENT ON VIEW release_with_events IS
  'Releases with at least one run that logged events (the depth views have data for these only)';
COMMENT ON COLUMN release_with_events.release IS 'Release, X.Y.Z';
