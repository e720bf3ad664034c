-- "Overdue now" for one institution, a subtree or the regional
-- governments: the open reports of a set of holders that are past their
-- deadline. reports_open_holder is ordered by deadline first, so such a
-- count walked every overdue report in the country to find the set's
-- (SQLite, 1,000,000 reports, Kota Bandung: 32 ms). This index is ordered
-- by holder, written exactly as `overdue_now` groups by it, so the count
-- looks up each holder's overdue stretch (0.2 ms).
CREATE INDEX reports_open_by_holder ON reports ((COALESCE(unit, institution, '')), due_at, stage)
    WHERE status IN ('submitted','dispositioned','in_progress');
