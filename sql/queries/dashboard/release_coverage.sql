-- Where one release's coverage comes from: 'audit events', 'published coverage' or
-- 'no data' (release_coverage); the pages say "no data" rather than showing every
-- endpoint untested. With it, how much data backs the numbers: the release's CI runs
-- (hot, compact or archived) and their events. Asked of one release by value: the view answers
-- for all releases otherwise. Parameter: %(release)s, X.Y.Z.
SELECT c.coverage,
       count(r.run) AS runs,
       coalesce(sum(r.events), 0)::bigint AS events
FROM release_coverage c
LEFT JOIN audit_run r ON r.release = c.release AND r.state IN ('hot', 'compact', 'archived')
WHERE c.release = %(release)s
GROUP BY c.coverage;
