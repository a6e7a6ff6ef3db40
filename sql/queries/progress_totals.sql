-- conformance-progress.json's totals, apisnoop's names for conformance.progress's
-- columns: one row per release, oldest first. `snoopdb export` writes them and
-- `snoopdb compare-published` compares them with the published file.
SELECT p.release,
       p.total_endpoints AS endpoints,
       p.total_tested_endpoints AS tested,
       p.new_endpoints AS new,
       p.new_endpoints_promoted_with_tests AS new_with_tests,
       p.old_endpoints_covered_by_new_tests AS old_tested,
       p.new_endpoints_covered_by_new_tests + p.new_endpoints_covered_by_old_tests AS new_tested,
       p.endpoints_still_untested_today AS still_untested
FROM conformance.progress p
ORDER BY release_key(p.release);
