-- The endpoints of one kind (parameters: kind, group, version) in the latest release, with their
-- x-kubernetes-action and whether they act on a subresource (a path going on after
-- the object's {name}: status, log, token...).
SELECT action, endpoint, tested, path ~ '/[{]name[}]/'
FROM endpoint_coverage
WHERE release = (SELECT latest_release())
  AND kind = %s AND "group" = %s AND version = %s AND action IS NOT NULL
ORDER BY endpoint
