-- Queues filtered by category (the most used queue filter) walk one index
-- range per status already in date order, and count without touching rows.
CREATE INDEX reports_status_category ON reports(status, category, submitted_at, tracking_id);
