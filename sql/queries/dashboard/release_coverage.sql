-- Where one release's coverage comes from: 'audit events', 'published coverage' or
-- 'no data' (release_coverage); the overview says "no data" rather than showing
-- every endpoint untested. Parameter: %(release)s, X.Y.Z.
SELECT coverage FROM release_coverage WHERE release = %(release)s;
