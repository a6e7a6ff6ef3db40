-- The conformance progress chart: conformance.progress as it is, oldest release first.
SELECT release,
       new_endpoints,
       new_tests,
       new_endpoints_promoted_with_tests,
       new_endpoints_covered_by_new_tests,
       new_endpoints_covered_by_old_tests,
       old_endpoints_covered_by_new_tests,
       total_endpoints,
       total_tested_endpoints,
       endpoints_still_untested_today
FROM conformance.progress;
