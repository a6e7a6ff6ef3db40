-- Loaders call refresh_coverage() at the end of any load that writes endpoint_hit
-- (audit events, history import), in the same transaction, so the coverage views
-- never show a half-loaded run.
-- Version 2: endpoint_test_hit reads coverage_release(), which reads
-- release_endpoint_hit, so it comes after it; then
-- conformance.eligible_endpoint_coverage, materialized since version 2.

CREATE OR REPLACE FUNCTION refresh_coverage() RETURNS void
LANGUAGE sql AS $$
  REFRESH MATERIALIZED VIEW release_endpoint_hit;
  REFRESH MATERIALIZED VIEW release_test_hit;
  REFRESH MATERIALIZED VIEW endpoint_test_hit;
  REFRESH MATERIALIZED VIEW conformance.eligible_endpoint_coverage;
$$;
COMMENT ON FUNCTION refresh_coverage() IS
  'Recompute the summaries of endpoint_hit the coverage views read (and conformance.eligible_endpoint_coverage); call after every load of endpoint_hit';
