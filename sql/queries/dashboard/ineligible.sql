-- Why endpoints are not eligible for conformance, by conformance.eligible_endpoint's
-- rules (judged in the latest release, latest_release()): not in it, not stable
-- there, deprecated there, or on conformance.ineligible_endpoint (its reason). The
-- endpoint table's eligible column and an endpoint's page say it rather than leave
-- a blank. Parameters: %(release)s, the release whose endpoints (null: any), and
-- %(endpoint)s, one endpoint (null: all).
SELECT e.endpoint,
       CASE WHEN l.endpoint IS NULL THEN 'not in ' || latest_release() || ', the latest release'
            WHEN l.level <> 'stable' THEN 'not stable (' || l.level || ')'
            WHEN l.deprecated THEN 'deprecated'
            ELSE coalesce(nullif(btrim(i.reason), ''), 'on the ineligible list') END AS why
FROM (SELECT DISTINCT o.endpoint
      FROM open_api o
      WHERE (%(release)s::text IS NULL OR o.release = %(release)s)
        AND (%(endpoint)s::text IS NULL OR o.endpoint = %(endpoint)s)) AS e
LEFT JOIN open_api l ON l.release = latest_release() AND l.endpoint = e.endpoint
LEFT JOIN conformance.ineligible_endpoint i ON i.endpoint = e.endpoint
WHERE NOT EXISTS (SELECT FROM conformance.eligible_endpoint x WHERE x.endpoint = e.endpoint);
