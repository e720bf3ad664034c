-- Dashboard rollups (decision 0016, docs/indicators.md): each event's
-- contribution, added in the event's own transaction.
--
-- One row per cell and grain. The grains let a view read few rows:
--   d  a day (period yyyymmdd) with its labels: any filter;
--   m  a month (period yyyymm) with its labels;
--   D  a day, all labels summed ('*'): unfiltered days and weekly trends;
--   M  a month, all labels summed: unfiltered periods of whole months.
-- An empty institution is the national intake; an empty category is none.
CREATE TABLE rollups (
    grain                 TEXT NOT NULL,
    institution           TEXT NOT NULL,
    period                BIGINT NOT NULL,
    classification        TEXT NOT NULL,
    category              TEXT NOT NULL,
    channel               TEXT NOT NULL,
    submitted             BIGINT NOT NULL DEFAULT 0,
    verified              BIGINT NOT NULL DEFAULT 0,
    verified_on_time      BIGINT NOT NULL DEFAULT 0,
    received              BIGINT NOT NULL DEFAULT 0,
    dispositioned_to_unit BIGINT NOT NULL DEFAULT 0,
    followed_up           BIGINT NOT NULL DEFAULT 0,
    followed_up_on_time   BIGINT NOT NULL DEFAULT 0,
    completed             BIGINT NOT NULL DEFAULT 0,
    rating_1              BIGINT NOT NULL DEFAULT 0,
    rating_2              BIGINT NOT NULL DEFAULT 0,
    rating_3              BIGINT NOT NULL DEFAULT 0,
    rating_4              BIGINT NOT NULL DEFAULT 0,
    rating_5              BIGINT NOT NULL DEFAULT 0,
    reopened              BIGINT NOT NULL DEFAULT 0,
    transferred_out       BIGINT NOT NULL DEFAULT 0,
    ombudsman_offered     BIGINT NOT NULL DEFAULT 0,
    ombudsman_escalated   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, period, institution, classification, category, channel)
);
CREATE INDEX rollups_institution ON rollups(grain, institution, period);

-- Working-day histograms of the same cells: measure r is the first
-- response, c completion; days 0..=120, 121 meaning more.
CREATE TABLE rollup_days (
    grain          TEXT NOT NULL,
    institution    TEXT NOT NULL,
    period         BIGINT NOT NULL,
    classification TEXT NOT NULL,
    category       TEXT NOT NULL,
    channel        TEXT NOT NULL,
    measure        TEXT NOT NULL,
    days           BIGINT NOT NULL,
    n              BIGINT NOT NULL,
    PRIMARY KEY (grain, period, institution, classification, category, channel, measure, days)
);
CREATE INDEX rollup_days_institution ON rollup_days(grain, institution, period);

-- Admin activity (indicator 12): the last sign-in, kept apart from the
-- session tokens, which are deleted when they end.
ALTER TABLE users ADD COLUMN last_login_at TIMESTAMPTZ;
