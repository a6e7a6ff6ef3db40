-- Where one release's coverage comes from: 'audit events', 'published coverage' or
-- 'no data' (release_coverage); the pages say "no data" rather than showing every
-- endpoint untested. Asked of one release by value: the view answers for all
-- releases otherwise. Parameter: %(release)s, X.Y.Z.
SELECT coverage FROM release_coverage WHERE release = %(release)s;
