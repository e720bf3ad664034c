-- Single-label month grains (decision 0016, "As built"): K keeps only the
-- category, N only the channel. A breakdown by one of them reads these
-- instead of every classification × category × channel combination of
-- the month grain. Existing rollups are filled from the month grain; new
-- events write all six grains.
INSERT INTO rollups (grain, institution, period, classification, category, channel, submitted, verified, verified_on_time, received, dispositioned_to_unit, followed_up, followed_up_on_time, completed, rating_1, rating_2, rating_3, rating_4, rating_5, reopened, transferred_out, ombudsman_offered, ombudsman_escalated)
SELECT 'K', institution, period, '*', category, '*', SUM(submitted), SUM(verified), SUM(verified_on_time), SUM(received), SUM(dispositioned_to_unit), SUM(followed_up), SUM(followed_up_on_time), SUM(completed), SUM(rating_1), SUM(rating_2), SUM(rating_3), SUM(rating_4), SUM(rating_5), SUM(reopened), SUM(transferred_out), SUM(ombudsman_offered), SUM(ombudsman_escalated)
FROM rollups WHERE grain = 'm' GROUP BY institution, period, category;
INSERT INTO rollup_days (grain, institution, period, classification, category, channel, measure, days, n)
SELECT 'K', institution, period, '*', category, '*', measure, days, SUM(n)
FROM rollup_days WHERE grain = 'm' GROUP BY institution, period, category, measure, days;
INSERT INTO rollups (grain, institution, period, classification, category, channel, submitted, verified, verified_on_time, received, dispositioned_to_unit, followed_up, followed_up_on_time, completed, rating_1, rating_2, rating_3, rating_4, rating_5, reopened, transferred_out, ombudsman_offered, ombudsman_escalated)
SELECT 'N', institution, period, '*', '*', channel, SUM(submitted), SUM(verified), SUM(verified_on_time), SUM(received), SUM(dispositioned_to_unit), SUM(followed_up), SUM(followed_up_on_time), SUM(completed), SUM(rating_1), SUM(rating_2), SUM(rating_3), SUM(rating_4), SUM(rating_5), SUM(reopened), SUM(transferred_out), SUM(ombudsman_offered), SUM(ombudsman_escalated)
FROM rollups WHERE grain = 'm' GROUP BY institution, period, channel;
INSERT INTO rollup_days (grain, institution, period, classification, category, channel, measure, days, n)
SELECT 'N', institution, period, '*', '*', channel, measure, days, SUM(n)
FROM rollup_days WHERE grain = 'm' GROUP BY institution, period, channel, measure, days;
