-- Revision 0020 undone: the relation, then the pending list it reads.
DROP VIEW endpoint_eligibility;
DROP TABLE conformance.pending_eligible_endpoint;
