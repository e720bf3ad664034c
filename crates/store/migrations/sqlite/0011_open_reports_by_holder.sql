-- "Overdue now" (indicator 8) counts open reports past their deadline by
-- their most specific holder. With only (status, due_at) to go on, one
-- institution's count walked every overdue report in the country (177 ms
-- at 1,000,000 reports). This index holds the open reports only, by
-- holder, so an institution's count reads its own entries and the national
-- count reads the open reports in holder order. Its expression and
-- predicate are written exactly as `overdue_now` writes them.
CREATE INDEX reports_open_holder ON reports (COALESCE(unit, institution, ''), due_at, stage)
    WHERE status IN ('submitted','dispositioned','in_progress');
