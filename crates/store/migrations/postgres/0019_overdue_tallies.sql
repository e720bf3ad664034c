-- "Overdue now" as tallies (decision 0024, src/overdue.rs): how many
-- counted reports each holder has due on a day (span 'D', every report) or
-- in a month (span 'M', every report under dim '' and by each label). `due`
-- is a day number: days since 1970-01-01 UTC of the day, or of the month's
-- first day. The rows are filled by `migrate` right after this step, and
-- by `lapor rollups rebuild`.
CREATE TABLE overdue_tallies (
    dim    TEXT NOT NULL,
    label  TEXT NOT NULL,
    span   TEXT NOT NULL,
    due    BIGINT NOT NULL,
    holder TEXT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (dim, label, span, due, holder)
);
-- A few holders' tallies (an institution's page), read from the index alone.
CREATE INDEX overdue_tallies_by_holder ON overdue_tallies (holder, dim, label, span, due) INCLUDE (n);
