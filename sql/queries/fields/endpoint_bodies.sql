-- The body definition of each endpoint of a release (%(release)s) that takes a body.
SELECT endpoint, definition FROM endpoint_body WHERE release = %(release)s
