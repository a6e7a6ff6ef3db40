-- What the release gate must know before it can decide (snoopdb/gate.py): the
-- release (the latest loaded one unless named), whether its spec is loaded, the
-- earlier releases it is compared with, the runs of the release, how many
-- conformance tests are known, and the pending list loaded (where from, for which
-- release, its endpoints; nulls when none was), which endpoint_eligibility reads.
-- Parameter: %(release)s, X.Y.Z or null for the latest loaded release.

WITH target AS (
  SELECT coalesce(%(release)s::text, latest_release()) AS release
)
SELECT t.release,
       EXISTS (SELECT FROM open_api o WHERE o.release = t.release) AS has_spec,
       ARRAY(SELECT r.release FROM release_order r
             WHERE r.sort_key < release_key(t.release)
               AND EXISTS (SELECT FROM open_api o WHERE o.release = r.release)
             ORDER BY r.sort_key) AS earlier_releases,
       ARRAY(SELECT DISTINCT h.source COLLATE "C" FROM endpoint_hit h
             WHERE h.release = t.release ORDER BY 1) AS sources,
       (SELECT count(*) FROM conformance.test) AS conformance_tests,
       p.source AS pending_source,
       p.release AS pending_release,
       ARRAY(SELECT endpoint FROM conformance.pending_eligible_endpoint
             ORDER BY endpoint COLLATE "C") AS pending
FROM target t
LEFT JOIN (SELECT source, release FROM load_log WHERE kind = 'pending'
           ORDER BY id DESC LIMIT 1) AS p ON true;
