-- conformance-coverage-per-release.json's totals, the view's own (snoopDB's) column
-- names: one row per release, oldest first. `snoopdb compare-published` compares
-- them with the published file.
SELECT release,
       "new endpoints",
       tested,
       untested,
       "total tested",
       "total untested",
       "total endpoints"
FROM conformance.coverage_per_release
ORDER BY release_key(release);
