-- Working-day histograms as bucket columns of the rollups (decision 0018).
-- rollup_days kept a row per cell, measure and day; the dashboards read
-- tens of thousands of them per page. The buckets are each day to 10,
-- then 11-14, 15-20, 21-30, 31-45, 46-60, 61-90, 91-120 and more than 120
-- (r_ for the first response, c_ for completion, named by first day).
-- They are filled from rollup_days, which then goes.
-- The same statements run on both backends (UPDATE … FROM needs SQLite 3.33).
ALTER TABLE rollups ADD COLUMN r_0 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_6 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_7 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_8 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_9 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_10 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_11 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_15 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_21 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_31 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_46 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_61 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_91 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN r_121 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_0 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_6 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_7 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_8 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_9 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_10 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_11 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_15 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_21 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_31 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_46 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_61 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_91 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c_121 BIGINT NOT NULL DEFAULT 0;
UPDATE rollups SET
    r_0 = t.r_0,
    r_1 = t.r_1,
    r_2 = t.r_2,
    r_3 = t.r_3,
    r_4 = t.r_4,
    r_5 = t.r_5,
    r_6 = t.r_6,
    r_7 = t.r_7,
    r_8 = t.r_8,
    r_9 = t.r_9,
    r_10 = t.r_10,
    r_11 = t.r_11,
    r_15 = t.r_15,
    r_21 = t.r_21,
    r_31 = t.r_31,
    r_46 = t.r_46,
    r_61 = t.r_61,
    r_91 = t.r_91,
    r_121 = t.r_121,
    c_0 = t.c_0,
    c_1 = t.c_1,
    c_2 = t.c_2,
    c_3 = t.c_3,
    c_4 = t.c_4,
    c_5 = t.c_5,
    c_6 = t.c_6,
    c_7 = t.c_7,
    c_8 = t.c_8,
    c_9 = t.c_9,
    c_10 = t.c_10,
    c_11 = t.c_11,
    c_15 = t.c_15,
    c_21 = t.c_21,
    c_31 = t.c_31,
    c_46 = t.c_46,
    c_61 = t.c_61,
    c_91 = t.c_91,
    c_121 = t.c_121
FROM (SELECT grain, institution, period, classification, category, channel,
       SUM(CASE WHEN measure = 'r' AND days >= 0 AND days < 1 THEN n ELSE 0 END) AS r_0,
       SUM(CASE WHEN measure = 'r' AND days >= 1 AND days < 2 THEN n ELSE 0 END) AS r_1,
       SUM(CASE WHEN measure = 'r' AND days >= 2 AND days < 3 THEN n ELSE 0 END) AS r_2,
       SUM(CASE WHEN measure = 'r' AND days >= 3 AND days < 4 THEN n ELSE 0 END) AS r_3,
       SUM(CASE WHEN measure = 'r' AND days >= 4 AND days < 5 THEN n ELSE 0 END) AS r_4,
       SUM(CASE WHEN measure = 'r' AND days >= 5 AND days < 6 THEN n ELSE 0 END) AS r_5,
       SUM(CASE WHEN measure = 'r' AND days >= 6 AND days < 7 THEN n ELSE 0 END) AS r_6,
       SUM(CASE WHEN measure = 'r' AND days >= 7 AND days < 8 THEN n ELSE 0 END) AS r_7,
       SUM(CASE WHEN measure = 'r' AND days >= 8 AND days < 9 THEN n ELSE 0 END) AS r_8,
       SUM(CASE WHEN measure = 'r' AND days >= 9 AND days < 10 THEN n ELSE 0 END) AS r_9,
       SUM(CASE WHEN measure = 'r' AND days >= 10 AND days < 11 THEN n ELSE 0 END) AS r_10,
       SUM(CASE WHEN measure = 'r' AND days >= 11 AND days < 15 THEN n ELSE 0 END) AS r_11,
       SUM(CASE WHEN measure = 'r' AND days >= 15 AND days < 21 THEN n ELSE 0 END) AS r_15,
       SUM(CASE WHEN measure = 'r' AND days >= 21 AND days < 31 THEN n ELSE 0 END) AS r_21,
       SUM(CASE WHEN measure = 'r' AND days >= 31 AND days < 46 THEN n ELSE 0 END) AS r_31,
       SUM(CASE WHEN measure = 'r' AND days >= 46 AND days < 61 THEN n ELSE 0 END) AS r_46,
       SUM(CASE WHEN measure = 'r' AND days >= 61 AND days < 91 THEN n ELSE 0 END) AS r_61,
       SUM(CASE WHEN measure = 'r' AND days >= 91 AND days < 121 THEN n ELSE 0 END) AS r_91,
       SUM(CASE WHEN measure = 'r' AND days >= 121 THEN n ELSE 0 END) AS r_121,
       SUM(CASE WHEN measure = 'c' AND days >= 0 AND days < 1 THEN n ELSE 0 END) AS c_0,
       SUM(CASE WHEN measure = 'c' AND days >= 1 AND days < 2 THEN n ELSE 0 END) AS c_1,
       SUM(CASE WHEN measure = 'c' AND days >= 2 AND days < 3 THEN n ELSE 0 END) AS c_2,
       SUM(CASE WHEN measure = 'c' AND days >= 3 AND days < 4 THEN n ELSE 0 END) AS c_3,
       SUM(CASE WHEN measure = 'c' AND days >= 4 AND days < 5 THEN n ELSE 0 END) AS c_4,
       SUM(CASE WHEN measure = 'c' AND days >= 5 AND days < 6 THEN n ELSE 0 END) AS c_5,
       SUM(CASE WHEN measure = 'c' AND days >= 6 AND days < 7 THEN n ELSE 0 END) AS c_6,
       SUM(CASE WHEN measure = 'c' AND days >= 7 AND days < 8 THEN n ELSE 0 END) AS c_7,
       SUM(CASE WHEN measure = 'c' AND days >= 8 AND days < 9 THEN n ELSE 0 END) AS c_8,
       SUM(CASE WHEN measure = 'c' AND days >= 9 AND days < 10 THEN n ELSE 0 END) AS c_9,
       SUM(CASE WHEN measure = 'c' AND days >= 10 AND days < 11 THEN n ELSE 0 END) AS c_10,
       SUM(CASE WHEN measure = 'c' AND days >= 11 AND days < 15 THEN n ELSE 0 END) AS c_11,
       SUM(CASE WHEN measure = 'c' AND days >= 15 AND days < 21 THEN n ELSE 0 END) AS c_15,
       SUM(CASE WHEN measure = 'c' AND days >= 21 AND days < 31 THEN n ELSE 0 END) AS c_21,
       SUM(CASE WHEN measure = 'c' AND days >= 31 AND days < 46 THEN n ELSE 0 END) AS c_31,
       SUM(CASE WHEN measure = 'c' AND days >= 46 AND days < 61 THEN n ELSE 0 END) AS c_46,
       SUM(CASE WHEN measure = 'c' AND days >= 61 AND days < 91 THEN n ELSE 0 END) AS c_61,
       SUM(CASE WHEN measure = 'c' AND days >= 91 AND days < 121 THEN n ELSE 0 END) AS c_91,
       SUM(CASE WHEN measure = 'c' AND days >= 121 THEN n ELSE 0 END) AS c_121
      FROM rollup_days GROUP BY grain, institution, period, classification, category, channel) AS t
WHERE rollups.grain = t.grain AND rollups.institution = t.institution AND rollups.period = t.period AND rollups.classification = t.classification AND rollups.category = t.category AND rollups.channel = t.channel;
DROP TABLE rollup_days;
