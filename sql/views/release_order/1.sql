-- Every release the coverage views deal with, with its semantic sort key.
-- release_key() costs tens of microseconds a call, so views join this (one call
-- per distinct release) instead of calling it on each of thousands of rows.

CREATE VIEW release_order AS
-- MATERIALIZED: otherwise the planner flattens this view into the query using it
-- and calls release_key() once per joined row again.
WITH known AS MATERIALIZED (
  -- DISTINCT in each branch lets the planner estimate a few dozen releases from
  -- each table's statistics; a bare UNION is estimated at the sum of the tables'
  -- rows, which skews every join with this view (and can trigger JIT compilation).
  SELECT release, release_key(release) AS sort_key
  FROM (SELECT DISTINCT release FROM open_api
        UNION SELECT DISTINCT release FROM conformance.test
        UNION SELECT DISTINCT release FROM release_endpoint_hit) AS releases
)
SELECT release, sort_key FROM known;

COMMENT ON VIEW release_order IS
  'Every release of open_api, conformance.test and the CI runs, with its sort key: order by sort_key';
COMMENT ON COLUMN release_order.release IS 'The release, X.Y.Z';
COMMENT ON COLUMN release_order.sort_key IS 'release_key(release): sorts 1.9.0 before 1.10.0';
