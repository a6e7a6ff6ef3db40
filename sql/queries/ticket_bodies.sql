-- How many request bodies the live test (%(useragent)s) sent, for the ticket.
SELECT coalesce(sum(bodies), 0)::bigint FROM testing.body_hit WHERE useragent = %(useragent)s;
