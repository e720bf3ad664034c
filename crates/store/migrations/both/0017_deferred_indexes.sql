-- Secondary indexes a bulk load has set aside (Rollups::defer_indexes), with
-- the statement that makes each again. Building an index once over loaded
-- rows costs a fraction of updating it row by row; the rows stay here until
-- the index is back, so a load that dies half way loses no index: the next
-- `migrate` (every start) makes them first.
CREATE TABLE deferred_indexes (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL
);
