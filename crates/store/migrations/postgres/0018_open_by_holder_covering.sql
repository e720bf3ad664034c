-- "Overdue now" for a few holders (an institution's page): PostgreSQL can
-- answer from reports_open_by_holder alone only if the index also holds the
-- columns its expression is made of; without them it read each overdue
-- report's row, or walked every overdue report in reports_open_holder
-- instead (1,000,000 reports, Kota Bandung's subtree: 48-64 ms, against
-- 0.3 ms from this index). SQLite has no INCLUDE; its planner is told
-- which index to take (`OPEN_REPORTS_OF`).
DROP INDEX IF EXISTS reports_open_by_holder;
CREATE INDEX reports_open_by_holder ON reports ((COALESCE(unit, institution, '')), due_at, stage)
    INCLUDE (unit, institution)
    WHERE status IN ('submitted','dispositioned','in_progress');
