-- The public list (/laporan, Open311 without filters): newest public
-- reports first. Walking reports_submitted from the newest, every report
-- not yet public (waiting for verification, confidential, merged, spam)
-- was read and dropped; in a surge the newest tens of thousands are all
-- waiting, and each page read them all (the soak's p99 climbed with the
-- backlog). The predicate is filter.rs's PUBLIC_CONDITION, word for word,
-- so both planners can prove the index covers the query.
CREATE INDEX reports_public_submitted ON reports (submitted_at, tracking_id)
    WHERE confidential = FALSE AND institution IS NOT NULL AND status <> 'merged' AND (archive_reason IS NULL OR archive_reason <> 'spam');
