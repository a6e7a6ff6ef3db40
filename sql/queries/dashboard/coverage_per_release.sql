-- The conformance debt chart: conformance.coverage_per_release, oldest release first,
-- its column names (snoopDB's, with spaces) as identifiers for the JSON API.
SELECT release,
       "new endpoints" AS new_endpoints,
       tested,
       untested,
       "total tested" AS total_tested,
       "total untested" AS total_untested,
       "total endpoints" AS total_endpoints
FROM conformance.coverage_per_release;
