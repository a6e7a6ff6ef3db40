-- One eligibility rule (revision 0020): the pending list beside the ineligible one,
-- and endpoint_eligibility (sql/views/endpoint_eligibility/1.sql), the one relation
-- every consumer reads.
--
-- Keyed as conformance.ineligible_endpoint is: one list, the one of the release loaded
-- last (its load_log row names that release), replaced whole by each load and applied
-- to every release's spec. Kubernetes keeps one list on master and cuts it per
-- release branch; a database answers for the lists of the release it was loaded for.

CREATE TABLE conformance.pending_eligible_endpoint (
  endpoint text PRIMARY KEY
);
COMMENT ON TABLE conformance.pending_eligible_endpoint IS
  'Endpoints of pending_eligible_endpoints.yaml: eligible, but allowed to wait for a conformance test (the list of the release loaded last)';
COMMENT ON COLUMN conformance.pending_eligible_endpoint.endpoint IS 'The operationId';
