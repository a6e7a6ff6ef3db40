-- Downgrade of revision 0013: the stability views, their summaries (every release's
-- partitions go with them), the min_share setting's function and the build columns
-- of audit_run go; the migration then installs release_summaries_rewrite version 4
-- (refresh_coverage/4.sql, which creates release_partition and
-- refresh_release_coverage too).

DROP VIEW conformance.stable_progress, conformance.stable_coverage, test_endpoint_stability,
  endpoint_stability, run_coverage;
DROP TABLE release_test_endpoint_hit, release_run_hit;
DROP FUNCTION min_share_setting(), add_run_coverage(bigint);
DROP FUNCTION refresh_release_coverage(text[]), release_summaries_rewrite(text),
  release_partition(text, text);
ALTER TABLE audit_run DROP COLUMN build, DROP COLUMN started, DROP COLUMN commit,
  DROP COLUMN result;
COMMENT ON FUNCTION audit_run_build(text) IS
  'The build number a run''s source ends in (prow: .../<job>/<build>), null if none: runs of a job are ordered by it, then by load time';
