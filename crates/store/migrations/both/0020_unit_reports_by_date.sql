-- A subtree's reports of a period (an institution's recurring problems,
-- its report list): the reports its units hold were found through
-- reports_unit (unit) alone, so every report a unit ever held was read
-- and then dropped by date. Ordered by date within the unit, the read is
-- bounded by the period, as the institutions' side already is through
-- reports_institution (institution, submitted_at). Lookups by unit alone
-- use the new index's first column.
CREATE INDEX reports_unit_submitted ON reports (unit, submitted_at) WHERE unit IS NOT NULL;
DROP INDEX reports_unit;
