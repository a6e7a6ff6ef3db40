-- `snoopdb presubmit` (snoopdb/commands/presubmit.py): every operation of one spec
-- with its level and, when it is not conformance-eligible, why — as
-- endpoint_eligibility, the one rule, judges it. The spec is a loaded release's, or a
-- pull request's (or its base's) stored as a pseudo-release in presubmit's own
-- transaction, with the lists of that side in conformance.ineligible_endpoint and
-- conformance.pending_eligible_endpoint; the transaction is rolled back, so no other
-- session ever sees either.
-- Parameter: %(release)s (open_api.release).

SELECT e.endpoint, o.method, o.path, e.level, e.reason
FROM endpoint_eligibility e
JOIN open_api o USING (release, endpoint)
WHERE e.release = %(release)s
ORDER BY e.endpoint COLLATE "C";
