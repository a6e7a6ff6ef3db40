-- The query parameters each operation of a release (%(release)s) declares: what a
-- depth tally always lists (coverage/depth.py).
SELECT endpoint, parameter FROM endpoint_parameter
WHERE release = %(release)s AND location = 'query'
