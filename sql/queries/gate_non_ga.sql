-- `snoopdb gate --ga-only` (snoopdb/commands/gate.py): the alpha and beta operations
-- conformance tests ([Conformance] user agents) called in the release's runs
-- (conformance.non_ga_call), each test's calls together.
-- Parameter: %(release)s, X.Y.Z.
SELECT test, endpoint, level, hits
FROM conformance.non_ga_call
WHERE release = %(release)s
ORDER BY test, endpoint;
