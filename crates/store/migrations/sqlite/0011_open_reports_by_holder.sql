-- "Overdue now" (indicator 8) counts open reports past their deadline by
-- their most specific holder. With only (status, due_at) to go on, the
-- count fetched every overdue report's row (PostgreSQL, 100,000 reports:
-- 43 ms; ten times that at 1,000,000). This index holds the open reports
-- only, with every column the count reads, so PostgreSQL answers it from
-- the index alone (4 ms). Its predicate is written exactly as
-- `overdue_now` writes it, and it holds plain columns, as PostgreSQL
-- answers from an index alone only with those. SQLite's planner keeps
-- preferring reports_status_due for this count.
CREATE INDEX reports_open_holder ON reports (due_at, institution, unit, stage)
    WHERE status IN ('submitted','dispositioned','in_progress');
