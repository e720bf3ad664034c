-- The rollups as a table clustered by its key (WITHOUT ROWID). A view
-- reads a range of (grain, period): in a rowid table each of those rows
-- was a separate lookup into pages written in whatever order the events
-- came, 10 us a row. Clustered, the range is read in order. In sqlite3 on
-- 1,000,000 reports, the national rollup by institution for 90 days
-- (19,000 rows) went from 210 to 22 ms. PostgreSQL has no kept
-- clustering; its rows stay in write order.
-- SQLite cannot turn a table WITHOUT ROWID in place: the table is restated
-- (as 0009 and 0012 left it) and copied.
CREATE TABLE rollups_clustered (
    grain                 TEXT NOT NULL,
    institution           TEXT NOT NULL,
    period                INTEGER NOT NULL,
    classification        TEXT NOT NULL,
    category              TEXT NOT NULL,
    channel               TEXT NOT NULL,
    submitted             INTEGER NOT NULL DEFAULT 0,
    verified              INTEGER NOT NULL DEFAULT 0,
    verified_on_time      INTEGER NOT NULL DEFAULT 0,
    received              INTEGER NOT NULL DEFAULT 0,
    dispositioned_to_unit INTEGER NOT NULL DEFAULT 0,
    followed_up           INTEGER NOT NULL DEFAULT 0,
    followed_up_on_time   INTEGER NOT NULL DEFAULT 0,
    completed             INTEGER NOT NULL DEFAULT 0,
    rating_1              INTEGER NOT NULL DEFAULT 0,
    rating_2              INTEGER NOT NULL DEFAULT 0,
    rating_3              INTEGER NOT NULL DEFAULT 0,
    rating_4              INTEGER NOT NULL DEFAULT 0,
    rating_5              INTEGER NOT NULL DEFAULT 0,
    reopened              INTEGER NOT NULL DEFAULT 0,
    transferred_out       INTEGER NOT NULL DEFAULT 0,
    ombudsman_offered     INTEGER NOT NULL DEFAULT 0,
    ombudsman_escalated   INTEGER NOT NULL DEFAULT 0,
    r_0                   INTEGER NOT NULL DEFAULT 0,
    r_1                   INTEGER NOT NULL DEFAULT 0,
    r_2                   INTEGER NOT NULL DEFAULT 0,
    r_3                   INTEGER NOT NULL DEFAULT 0,
    r_4                   INTEGER NOT NULL DEFAULT 0,
    r_5                   INTEGER NOT NULL DEFAULT 0,
    r_6                   INTEGER NOT NULL DEFAULT 0,
    r_7                   INTEGER NOT NULL DEFAULT 0,
    r_8                   INTEGER NOT NULL DEFAULT 0,
    r_9                   INTEGER NOT NULL DEFAULT 0,
    r_10                  INTEGER NOT NULL DEFAULT 0,
    r_11                  INTEGER NOT NULL DEFAULT 0,
    r_15                  INTEGER NOT NULL DEFAULT 0,
    r_21                  INTEGER NOT NULL DEFAULT 0,
    r_31                  INTEGER NOT NULL DEFAULT 0,
    r_46                  INTEGER NOT NULL DEFAULT 0,
    r_61                  INTEGER NOT NULL DEFAULT 0,
    r_91                  INTEGER NOT NULL DEFAULT 0,
    r_121                 INTEGER NOT NULL DEFAULT 0,
    c_0                   INTEGER NOT NULL DEFAULT 0,
    c_1                   INTEGER NOT NULL DEFAULT 0,
    c_2                   INTEGER NOT NULL DEFAULT 0,
    c_3                   INTEGER NOT NULL DEFAULT 0,
    c_4                   INTEGER NOT NULL DEFAULT 0,
    c_5                   INTEGER NOT NULL DEFAULT 0,
    c_6                   INTEGER NOT NULL DEFAULT 0,
    c_7                   INTEGER NOT NULL DEFAULT 0,
    c_8                   INTEGER NOT NULL DEFAULT 0,
    c_9                   INTEGER NOT NULL DEFAULT 0,
    c_10                  INTEGER NOT NULL DEFAULT 0,
    c_11                  INTEGER NOT NULL DEFAULT 0,
    c_15                  INTEGER NOT NULL DEFAULT 0,
    c_21                  INTEGER NOT NULL DEFAULT 0,
    c_31                  INTEGER NOT NULL DEFAULT 0,
    c_46                  INTEGER NOT NULL DEFAULT 0,
    c_61                  INTEGER NOT NULL DEFAULT 0,
    c_91                  INTEGER NOT NULL DEFAULT 0,
    c_121                 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, period, institution, classification, category, channel)
) WITHOUT ROWID;
INSERT INTO rollups_clustered SELECT * FROM rollups;
DROP TABLE rollups;
ALTER TABLE rollups_clustered RENAME TO rollups;
CREATE INDEX rollups_institution ON rollups(grain, institution, period);
