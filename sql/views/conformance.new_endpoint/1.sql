-- snoopDB's conformance.new_endpoint: eligible endpoints by the release they first
-- appeared in, newest first, untested first.

CREATE VIEW conformance.new_endpoint AS
SELECT c.endpoint,
       c.first_release AS release,
       (c.first_conformance_test IS NOT NULL) AS tested
FROM conformance.eligible_endpoint_coverage c
JOIN release_order r ON r.release = c.first_release
ORDER BY r.sort_key DESC, tested, c.endpoint;

COMMENT ON VIEW conformance.new_endpoint IS 'Eligible endpoints by the release they first appeared in, and whether a conformance test hits them';
COMMENT ON COLUMN conformance.new_endpoint.endpoint IS 'The eligible endpoint, as in open_api';
COMMENT ON COLUMN conformance.new_endpoint.release IS 'Earliest loaded release whose spec has the endpoint';
COMMENT ON COLUMN conformance.new_endpoint.tested IS 'Hit by a conformance test (named in conformance.test) in any loaded run';
