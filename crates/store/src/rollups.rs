//! The dashboards' rollups (decision 0016, docs/indicators.md). Each
//! event's contribution (`lapor_domain::rollup`) is added in the event's own
//! transaction, at eight grains (six of them also summed nationally) so
//! that a view reads few rows; a rebuild replays every report's events;
//! views ask for sums grouped one way.

use crate::Result;
use crate::filter::Arg;
use async_trait::async_trait;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use lapor_domain::calendar::Calendar;
use lapor_domain::indicators::BUCKETS;
use lapor_domain::report::{Channel, Classification};
use lapor_domain::rollup::{Cell, Counters};
use lapor_domain::{Error, ErrorCode};
use std::collections::BTreeMap;

/// How finely a rollup row is kept (see migration 0009).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    /// A day, with its labels.
    Day,
    /// A month, with its labels.
    Month,
    /// A day, labels summed.
    DayTotal,
    /// A month, labels summed.
    MonthTotal,
    /// A month by category only: the category breakdown reads it instead
    /// of every classification × channel combination (migration 0010).
    MonthCategory,
    /// A month by channel only, likewise.
    MonthChannel,
    /// A day by category only: the edge days of a category breakdown
    /// (migration 0013).
    DayCategory,
    /// A day by channel only, likewise.
    DayChannel,
}

impl Grain {
    pub const ALL: [Grain; 8] = [
        Grain::Day,
        Grain::Month,
        Grain::DayTotal,
        Grain::MonthTotal,
        Grain::MonthCategory,
        Grain::MonthChannel,
        Grain::DayCategory,
        Grain::DayChannel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Day => "d",
            Grain::Month => "m",
            Grain::DayTotal => "D",
            Grain::MonthTotal => "M",
            Grain::MonthCategory => "K",
            Grain::MonthChannel => "N",
            Grain::DayCategory => "k",
            Grain::DayChannel => "n",
        }
    }

    pub fn parse(s: &str) -> Option<Grain> {
        Grain::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// Which labels the grain keeps: (classification, category, channel).
    fn keeps(self) -> (bool, bool, bool) {
        match self {
            Grain::Day | Grain::Month => (true, true, true),
            Grain::DayTotal | Grain::MonthTotal => (false, false, false),
            Grain::MonthCategory | Grain::DayCategory => (false, true, false),
            Grain::MonthChannel | Grain::DayChannel => (false, false, true),
        }
    }

    /// Whether the grain also keeps national rows (institution `NATIONAL`):
    /// all but the fully labeled ones, whose national rows would be nearly
    /// as many as the institutions' (decision 0019).
    pub fn national(self) -> bool {
        !matches!(self, Grain::Day | Grain::Month)
    }

    fn period(self, day: NaiveDate) -> i64 {
        match self {
            Grain::Day | Grain::DayTotal | Grain::DayCategory | Grain::DayChannel => day_period(day),
            Grain::Month | Grain::MonthTotal | Grain::MonthCategory | Grain::MonthChannel => month_period(day),
        }
    }
}

/// Labels summed away in the total grains.
pub const ANY: &str = "*";

/// The institution of the national rows: every holder summed, the
/// national intake included. A national view reads a few hundred of them
/// instead of every institution's (decision 0019). No institution code
/// can be `*` (`lapor_domain::institution::valid_code`).
pub const NATIONAL: &str = "*";

/// `yyyymmdd`.
pub fn day_period(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// `yyyymm`.
pub fn month_period(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 100 + i64::from(d.month())
}

/// One stored rollup row's key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub grain: Grain,
    pub period: i64,
    pub institution: String,
    pub classification: String,
    /// Empty when the report has no category.
    pub category: String,
    pub channel: String,
}

/// Histogram days as stored: the first day of their bucket (decision 0018).
pub fn bucket(days: u32) -> i64 {
    i64::from(lapor_domain::indicators::bucket_start(days))
}

/// The histogram columns of `rollups` (migration 0012), in table order:
/// `r_<first day>` for the first response, then `c_<first day>` for
/// completion, one per bucket.
/// Made once: every rollup row written or read walks this list, and
/// formatting the 38 names per row cost more than binding the row.
pub fn histogram_columns() -> &'static [(String, Measure, u32)] {
    static COLUMNS: std::sync::LazyLock<Vec<(String, Measure, u32)>> = std::sync::LazyLock::new(|| {
        [Measure::Response, Measure::Completion]
            .into_iter()
            .flat_map(|m| {
                BUCKETS
                    .iter()
                    .map(move |b| (format!("{}_{b}", m.prefix()), m, u32::from(*b)))
            })
            .collect()
    });
    &COLUMNS
}

/// Which working-day histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Response,
    Completion,
}

impl Measure {
    fn prefix(self) -> &'static str {
        match self {
            Measure::Response => "r",
            Measure::Completion => "c",
        }
    }

    pub fn of(self, c: &Counters) -> &BTreeMap<u32, i64> {
        match self {
            Measure::Response => &c.first_response_days,
            Measure::Completion => &c.completion_days,
        }
    }

    pub fn of_mut(self, c: &mut Counters) -> &mut BTreeMap<u32, i64> {
        match self {
            Measure::Response => &mut c.first_response_days,
            Measure::Completion => &mut c.completion_days,
        }
    }
}

/// The stored rows that contributions add to, merged (each key once, as a
/// multi-row upsert needs) and in key order (so concurrent writers lock
/// rows in the same order). Histogram days are bucketed.
pub fn expand(contributions: &[(Cell, Counters)]) -> BTreeMap<RollupKey, Counters> {
    let mut rows: BTreeMap<RollupKey, Counters> = BTreeMap::new();
    for (cell, c) in contributions {
        let mut bucketed = c.clone();
        for map in [&mut bucketed.first_response_days, &mut bucketed.completion_days] {
            let mut b: BTreeMap<u32, i64> = BTreeMap::new();
            for (d, n) in map.iter() {
                *b.entry(bucket(*d) as u32).or_insert(0) += n;
            }
            b.retain(|_, n| *n != 0);
            *map = b;
        }
        for grain in Grain::ALL {
            let (keep_class, keep_category, keep_channel) = grain.keeps();
            let label = |keep: bool, v: String| if keep { v } else { ANY.to_string() };
            let key = RollupKey {
                grain,
                period: grain.period(cell.day),
                institution: cell.institution.clone(),
                classification: label(keep_class, cell.classification.as_str().to_string()),
                category: label(keep_category, cell.category.clone().unwrap_or_default()),
                channel: label(keep_channel, cell.channel.as_str().to_string()),
            };
            if grain.national() {
                let national = RollupKey {
                    institution: NATIONAL.to_string(),
                    ..key.clone()
                };
                rows.entry(national).or_default().merge(&bucketed, 1);
            }
            rows.entry(key).or_default().merge(&bucketed, 1);
        }
    }
    rows.retain(|_, c| !c.is_zero());
    rows
}

/// How a view wants its sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// One total.
    All,
    /// By the most specific holder (views sum subtrees themselves).
    Institution,
    /// By WIB day (`yyyymmdd`): weekly trends are built from days.
    Day,
    /// By month (`yyyymm`).
    Month,
    Classification,
    Category,
    Channel,
}

/// A period and filters to sum the rollups over.
#[derive(Debug, Clone)]
pub struct RollupQuery {
    /// First and last day, inclusive, in WIB.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only this institution and those below it; None: everything,
    /// national intake included.
    pub subtree: Option<String>,
    /// Only these holders (the dashboards pass a set worked out from the
    /// institution tree, e.g. an institution with its units but not the
    /// regencies below a province). Combines with `subtree`.
    pub institutions: Option<Vec<String>>,
    /// Everything but these holders (with neither `subtree` nor
    /// `institutions`). Where the grains keep national rows, read as the
    /// national rows minus these holders' rows: a view over most holders
    /// (the regional governments) reads the few others instead.
    pub except: Option<Vec<String>>,
    pub classification: Option<Classification>,
    pub category: Option<String>,
    pub channel: Option<Channel>,
    pub group: GroupBy,
    /// Also sum the working-day histograms (38 more columns; trends
    /// and breakdowns that show no percentiles skip it).
    pub histograms: bool,
    /// Which counters to sum; the others come back as 0.
    pub columns: Columns,
}

/// The counters a query sums. Summing is most of a large read's cost, so
/// charts that show only volumes ask for those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Columns {
    #[default]
    All,
    /// Submitted, received, followed up and completed: what trend charts
    /// and breakdowns show.
    Volume,
}

impl Columns {
    pub fn includes(self, column: &str) -> bool {
        match self {
            Columns::All => true,
            Columns::Volume => matches!(column, "submitted" | "received" | "followed_up" | "completed"),
        }
    }
}

/// Longest period a view may ask for.
pub const MAX_PERIOD_DAYS: i64 = 3_660;

impl RollupQuery {
    pub fn validate(&self) -> Result<()> {
        if self.to < self.from {
            return Err(Error::with(
                ErrorCode::ValidationFailed,
                "periode: tanggal akhir sebelum tanggal awal / period: the end is before the start",
            ));
        }
        if (self.to - self.from).num_days() >= MAX_PERIOD_DAYS {
            return Err(Error::with(
                ErrorCode::ValidationFailed,
                "periode: paling lama 10 tahun / period: at most 10 years",
            ));
        }
        Ok(())
    }

    /// The labels the query filters or groups by: (classification,
    /// category, channel).
    fn labels(&self) -> (bool, bool, bool) {
        (
            self.classification.is_some() || self.group == GroupBy::Classification,
            self.category.is_some() || self.group == GroupBy::Category,
            self.channel.is_some() || self.group == GroupBy::Channel,
        )
    }

    /// The grains for the edge days and the whole months: the smallest
    /// whose labels cover the query's.
    fn grains(&self) -> (Grain, Grain) {
        match self.labels() {
            (false, false, false) => (Grain::DayTotal, Grain::MonthTotal),
            (false, true, false) => (Grain::DayCategory, Grain::MonthCategory),
            (false, false, true) => (Grain::DayChannel, Grain::MonthChannel),
            _ => (Grain::Day, Grain::Month),
        }
    }

    /// The WITH clause (the subtree, if any), the WHERE clause, their
    /// binds and the group expression. Whole months come from the month
    /// grain, the days before and after them from the day grain (all days,
    /// when grouping by day).
    /// `text_set` is the backend's subquery over a JSON array of text
    /// (see `in_list`).
    pub fn plan(&self, text_set: &str) -> Plan {
        self.plan_with(text_set, None)
    }

    /// As `plan`, with the backend's form of "one of a JSON set" that its
    /// planner can seek an index with (`seek_set`, `#` for the parameter,
    /// written after the column).
    pub fn plan_with(&self, text_set: &str, seek_set: Option<&str>) -> Plan {
        let mut args: Vec<Arg> = Vec::new();
        let mut arg = |a: Arg| {
            args.push(a);
            format!("${}", args.len())
        };
        let with = match &self.subtree {
            Some(code) => subtree_sql(&arg(Arg::Text(code.clone()))),
            None => String::new(),
        };
        let (day, month) = self.grains();
        let pieces = if self.group == GroupBy::Day {
            vec![Piece {
                month: false,
                from: self.from,
                to: self.to,
                minus: false,
            }]
        } else {
            cover(self.from, self.to)
        };
        let mut spans: Vec<String> = Vec::new();
        let mut minus: Vec<String> = Vec::new();
        for p in pieces {
            let (g, a, b) = if p.month {
                (month, month_period(p.from), month_period(p.to))
            } else {
                (day, day_period(p.from), day_period(p.to))
            };
            spans.push(format!(
                "(grain = {} AND period BETWEEN {} AND {})",
                arg(Arg::Text(g.as_str().into())),
                arg(Arg::I64(a)),
                arg(Arg::I64(b))
            ));
            // Written out, not bound: it is repeated in every summed
            // column, and holds only a grain name and two numbers.
            if p.minus {
                minus.push(format!("(grain = '{}' AND period BETWEEN {a} AND {b})", g.as_str()));
            }
        }
        let minus = (!minus.is_empty()).then(|| format!("({})", minus.join(" OR ")));
        let mut conds = Vec::new();
        // Everything (but `except`), not by institution: the national rows
        // (minus the excepted holders'), where the grains keep them;
        // otherwise every holder's rows without them.
        let mut subtract = false;
        if self.subtree.is_none() && self.institutions.is_none() {
            let national = self.group != GroupBy::Institution && day.national() && month.national();
            match (&self.except, national) {
                (None, true) => conds.push(format!("institution = {}", arg(Arg::Text(NATIONAL.into())))),
                (None, false) => conds.push(format!("institution <> {}", arg(Arg::Text(NATIONAL.into())))),
                (Some(except), true) => {
                    // The national rows and the excepted holders' are a
                    // few holders: the condition goes into every span, so
                    // each span seeks them in rollups_institution instead of
                    // walking every holder's rows of its days (SQLite,
                    // 1,000,000 reports, the regional governments'
                    // category breakdown: 61 -> 28 ms).
                    let mut holders = except.clone();
                    holders.push(NATIONAL.to_string());
                    holders.sort();
                    holders.dedup();
                    let within = match seek_set {
                        Some(seek) if holders.len() > JSON_SET_ABOVE => {
                            let json = serde_json::to_string(&holders).expect("a list of strings serializes");
                            format!("institution{}", seek.replace('#', &arg(Arg::Text(json))))
                        }
                        _ => in_list("institution", &holders, text_set, &mut arg),
                    };
                    spans = spans.into_iter().map(|s| format!("({s} AND {within})")).collect();
                    subtract = !except.is_empty();
                }
                (Some(except), false) => {
                    let star = arg(Arg::Text(NATIONAL.into()));
                    conds.push(format!(
                        "institution <> {star} AND NOT ({})",
                        in_list("institution", except, text_set, &mut arg)
                    ))
                }
            }
        }
        conds.insert(0, format!("({})", spans.join(" OR ")));
        if self.subtree.is_some() {
            conds.push("institution IN (SELECT code FROM sub)".into());
        }
        if let Some(set) = &self.institutions {
            conds.push(in_list("institution", set, text_set, &mut arg));
        }
        if let Some(c) = self.classification {
            conds.push(format!("classification = {}", arg(Arg::Text(c.as_str().into()))));
        }
        if let Some(c) = &self.category {
            conds.push(format!("category = {}", arg(Arg::Text(c.clone()))));
        }
        if let Some(c) = self.channel {
            conds.push(format!("channel = {}", arg(Arg::Text(c.as_str().into()))));
        }
        let group = match self.group {
            GroupBy::All => "''",
            GroupBy::Institution => "institution",
            GroupBy::Day => "period",
            GroupBy::Month => "CASE WHEN period < 1000000 THEN period ELSE period / 100 END",
            GroupBy::Classification => "classification",
            GroupBy::Category => "category",
            GroupBy::Channel => "channel",
        };
        Plan {
            with,
            cond: conds.join(" AND "),
            args,
            group,
            subtract,
            minus,
        }
    }
}

/// Sets larger than this travel as one JSON array: PostgreSQL searches a
/// list of bind parameters linearly once it plans the statement generically
/// (the ranking of 552 regional governments spent 290 ms of a 450 ms page on
/// it), and hashes the rows of a subquery.
pub const JSON_SET_ABOVE: usize = 32;

/// `column IN (…)`; false for an empty set. Small sets bind one parameter
/// each; larger ones bind one JSON array read by `text_set`, the backend's
/// subquery with `#` where the parameter goes.
pub(crate) fn in_list(column: &str, set: &[String], text_set: &str, arg: &mut impl FnMut(Arg) -> String) -> String {
    if set.is_empty() {
        return "1 = 0".into();
    }
    if set.len() > JSON_SET_ABOVE {
        let json = serde_json::to_string(set).expect("a list of strings serializes");
        return format!("{column} IN ({})", text_set.replace('#', &arg(Arg::Text(json))));
    }
    let params: Vec<String> = set.iter().map(|c| arg(Arg::Text(c.clone()))).collect();
    format!("{column} IN ({})", params.join(", "))
}

/// A compiled rollup query.
#[derive(Debug, Clone)]
pub struct Plan {
    pub with: String,
    pub cond: String,
    pub args: Vec<Arg>,
    pub group: &'static str,
    /// The rows are the national ones and the excepted holders': sum the
    /// former minus the latter.
    pub subtract: bool,
    /// The rows that are taken away (days outside the period of a month
    /// read whole, see `cover`), as a condition; None: none are.
    pub minus: Option<String>,
}

impl Plan {
    /// The summed term of a column: negated for the excepted holders' rows
    /// and for the rows taken away, and so kept for an excepted holder's
    /// row that is taken away.
    pub fn term(&self, column: &str) -> String {
        let national = format!("institution = '{NATIONAL}'");
        let positive = match (self.subtract, &self.minus) {
            (false, None) => return column.to_string(),
            (true, None) => national,
            (false, Some(m)) => format!("NOT {m}"),
            (true, Some(m)) => format!("({national}) <> {m}"),
        };
        format!("CASE WHEN {positive} THEN {column} ELSE -{column} END")
    }
}

/// The codes of an institution's subtree as the CTE `sub`, seeded by the
/// bind parameter `seed`.
pub(crate) fn subtree_sql(seed: &str) -> String {
    format!(
        "WITH RECURSIVE sub(code) AS (SELECT code FROM institutions WHERE code = {seed} \
         UNION SELECT i.code FROM institutions i JOIN sub s ON i.parent_code = s.code) "
    )
}

/// Splits a period into the whole months inside it and the days before and
/// after them.
type Span = Option<(NaiveDate, NaiveDate)>;
pub fn split_months(from: NaiveDate, to: NaiveDate) -> (Span, Span, Span) {
    let first_of_next = |d: NaiveDate| {
        let (y, m) = if d.month() == 12 {
            (d.year() + 1, 1)
        } else {
            (d.year(), d.month() + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1).expect("first of a month")
    };
    let month_start = if from.day() == 1 { from } else { first_of_next(from) };
    let after_to = to + Duration::days(1);
    let month_end_excl = if after_to.day() == 1 {
        after_to
    } else {
        NaiveDate::from_ymd_opt(to.year(), to.month(), 1).expect("first of a month")
    };
    if month_start >= month_end_excl {
        return (None, Some((from, to)), None);
    }
    let months = Some((month_start, month_end_excl - Duration::days(1)));
    let head = (from < month_start).then(|| (from, month_start - Duration::days(1)));
    let tail = (month_end_excl <= to).then_some((month_end_excl, to));
    (months, head, tail)
}

/// A piece of a period's cover (`cover`): the month grain (whole months) or
/// the day grain over `from..=to`, added, or taken away (`minus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub month: bool,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub minus: bool,
}

/// Covers a period with as few rollup rows as it can: whole months from
/// the month grain; a part of a month from its days, unless fewer of the
/// month's days lie outside the period than inside. Then the whole month is
/// read and the days outside are taken away. A 90-day view ending today
/// reads 9 days instead of 29 per holder and label (the first month's
/// first 5 days and this month's 4).
pub fn cover(from: NaiveDate, to: NaiveDate) -> Vec<Piece> {
    let (months, head, tail) = split_months(from, to);
    let part = |(a, b): (NaiveDate, NaiveDate)| -> Vec<Piece> {
        let first = a.with_day(1).expect("the first of a month");
        let last = first
            .checked_add_months(chrono::Months::new(1))
            .expect("a month in range")
            - Duration::days(1);
        let inside = (b - a).num_days() + 1;
        let outside = (last - first).num_days() + 1 - inside;
        if outside >= inside {
            return vec![Piece {
                month: false,
                from: a,
                to: b,
                minus: false,
            }];
        }
        let mut v = vec![Piece {
            month: true,
            from: first,
            to: last,
            minus: false,
        }];
        if a > first {
            v.push(Piece {
                month: false,
                from: first,
                to: a - Duration::days(1),
                minus: true,
            });
        }
        if b < last {
            v.push(Piece {
                month: false,
                from: b + Duration::days(1),
                to: last,
                minus: true,
            });
        }
        v
    };
    // A period without a whole month can still span two months' parts.
    let by_month = |(a, b): (NaiveDate, NaiveDate)| -> Vec<Piece> {
        let next = a
            .with_day(1)
            .and_then(|f| f.checked_add_months(chrono::Months::new(1)))
            .expect("a month in range");
        if b < next {
            part((a, b))
        } else {
            [part((a, next - Duration::days(1))), part((next, b))].concat()
        }
    };
    let mut pieces = head.map(by_month).unwrap_or_default();
    if let Some((a, b)) = months {
        pieces.push(Piece {
            month: true,
            from: a,
            to: b,
            minus: false,
        });
    }
    pieces.extend(tail.map(by_month).unwrap_or_default());
    pieces
}

/// Reports past their running deadline now, by their holder: the part of
/// "overdue" no event records (decision 0016, point 4).
#[derive(Debug, Clone, Default)]
pub struct OverdueQuery {
    pub subtree: Option<String>,
    /// Only these holders (see `RollupQuery::institutions`).
    pub institutions: Option<Vec<String>>,
    pub classification: Option<Classification>,
    pub category: Option<String>,
    pub channel: Option<Channel>,
}

/// A staff member who answers for an institution (indicator 12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSeen {
    pub user_id: String,
    pub name: String,
    pub role: lapor_domain::institution::Role,
    pub institution: String,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A generated report with its whole history, for `bulk_load`.
#[derive(Debug, Clone)]
pub struct BulkReport {
    pub report: lapor_domain::report::Report,
    pub events: Vec<lapor_domain::event::Event>,
    pub wake_at: Option<DateTime<Utc>>,
}

/// Roles whose sign-ins make an institution active.
pub const ANSWERING_ROLES: [&str; 3] = ["institution_admin", "unit_admin", "liaison"];

#[async_trait]
pub trait Rollups {
    /// Members answering for institutions (`ANSWERING_ROLES`), within a
    /// subtree (None: everywhere), with their last sign-in.
    async fn admin_activity(&self, subtree: Option<&str>) -> Result<Vec<AdminSeen>>;
    /// Institutions whose integration was live since `since`: an API key
    /// used, or a webhook delivered (indicator 13).
    async fn live_integrations(&self, since: DateTime<Utc>) -> Result<Vec<String>>;
    /// Sums over the query's period and filters, one entry per group key
    /// (institution code, `yyyymmdd`, `yyyymm` or label; "" for `All`).
    async fn rollup(&self, q: &RollupQuery) -> Result<Vec<(String, Counters)>>;
    /// Overdue reports now, by the most specific holder ("" for reports not
    /// yet verified).
    async fn overdue_now(&self, q: &OverdueQuery, now: DateTime<Utc>) -> Result<Vec<(String, i64)>>;
    /// Writes generated histories in one transaction: the reports (with
    /// `pin_hash`), their events and search postings, and adds `rollups`
    /// (rows as [`expand`] makes them; the caller may sum many batches'
    /// contributions before adding them once). For `lapor bench-data` only:
    /// no outbox, notifications or integration fan-out, as nobody is
    /// waiting for generated reports.
    async fn bulk_load(
        &self,
        reports: &[BulkReport],
        pin_hash: &str,
        rollups: &BTreeMap<RollupKey, Counters>,
    ) -> Result<()>;
    /// Sets aside the secondary (not unique) indexes of the reports, their
    /// events, search postings and rollups before a bulk load, keeping
    /// their definitions in `deferred_indexes`. Returns their names.
    async fn defer_indexes(&self) -> Result<Vec<String>>;
    /// Makes every set-aside index again, one transaction each, calling
    /// `progress(done, total)`. `migrate` does this first, so a load that
    /// died half way leaves no index missing after the next start.
    async fn restore_indexes(&self, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<u64>;
    /// Every stored row (for checks and tests).
    async fn rollup_rows(&self) -> Result<BTreeMap<RollupKey, Counters>>;
    /// Empties the rollups and replays every report's events through
    /// `lapor_domain::rollup::contribution`, in one transaction (writers wait
    /// for it). Calls `progress(done, total)`. Returns the reports replayed.
    async fn rebuild_rollups(&self, cal: &Calendar, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<u64>;
}

/// A set-aside index's definition, made safe to run when the index is
/// already there (made by hand, or by a second restore that raced this
/// one): `CREATE INDEX x` becomes `CREATE INDEX IF NOT EXISTS x`.
pub(crate) fn if_absent(definition: &str) -> String {
    const CREATE: &str = "CREATE INDEX ";
    let head = definition.get(..CREATE.len()).unwrap_or("");
    let rest = &definition[head.len()..];
    if head.eq_ignore_ascii_case(CREATE) && !rest.trim_start().to_ascii_uppercase().starts_with("IF NOT EXISTS") {
        format!("CREATE INDEX IF NOT EXISTS {}", rest.trim_start())
    } else {
        definition.to_string()
    }
}

/// Expands `impl Rollups` and the write helper over one backend.
macro_rules! rollups_impl {
    ($store:ty, $db:ty, $row:ty) => {
        use crate::rollups::*;
        use lapor_domain::rollup::{Cell as RollupCell, Counters as RollupCounters};
        use std::collections::BTreeMap;

        /// Binds the six key columns in table order.
        fn bind_rollup_key<'q>(
            q: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments>,
            k: &'q RollupKey,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
            q.bind(k.grain.as_str())
                .bind(k.period)
                .bind(k.institution.as_str())
                .bind(k.classification.as_str())
                .bind(k.category.as_str())
                .bind(k.channel.as_str())
        }

        const ROLLUP_COUNTER_COUNT: usize = 17;
        const ROLLUP_COUNTERS: [&str; ROLLUP_COUNTER_COUNT] = [
            "submitted", "verified", "verified_on_time", "received", "dispositioned_to_unit", "followed_up",
            "followed_up_on_time", "completed", "rating_1", "rating_2", "rating_3", "rating_4", "rating_5",
            "reopened", "transferred_out", "ombudsman_offered", "ombudsman_escalated",
        ];

        /// Every summed column: the counters, then the histogram buckets.
        fn rollup_columns() -> Vec<String> {
            ROLLUP_COUNTERS.iter().map(|c| c.to_string()).chain(histogram_columns().iter().map(|h| h.0.clone())).collect()
        }

        /// Values in `rollup_columns` order.
        fn counter_values(c: &RollupCounters) -> Vec<i64> {
            let mut v = vec![
                c.submitted, c.verified, c.verified_on_time, c.received, c.dispositioned_to_unit, c.followed_up,
                c.followed_up_on_time, c.completed, c.ratings[0], c.ratings[1], c.ratings[2], c.ratings[3],
                c.ratings[4], c.reopened, c.transferred_out, c.ombudsman_offered, c.ombudsman_escalated,
            ];
            v.extend(histogram_columns().iter().map(|(_, m, day)| m.of(c).get(day).copied().unwrap_or(0)));
            v
        }

        fn counters_from_row(r: &$row) -> Result<RollupCounters> {
            let v = |i: usize| get::<i64>(r, ROLLUP_COUNTERS[i]);
            let mut c = RollupCounters {
                submitted: v(0)?,
                verified: v(1)?,
                verified_on_time: v(2)?,
                received: v(3)?,
                dispositioned_to_unit: v(4)?,
                followed_up: v(5)?,
                followed_up_on_time: v(6)?,
                completed: v(7)?,
                ratings: [v(8)?, v(9)?, v(10)?, v(11)?, v(12)?],
                reopened: v(13)?,
                transferred_out: v(14)?,
                ombudsman_offered: v(15)?,
                ombudsman_escalated: v(16)?,
                ..RollupCounters::default()
            };
            for (name, m, day) in histogram_columns() {
                let n: i64 = get(r, name)?;
                if n != 0 {
                    m.of_mut(&mut c).insert(*day, n);
                }
            }
            Ok(c)
        }

        /// Adds contributions to the rollups inside the caller's transaction.
        async fn add_rollups(tx: &mut sqlx::Transaction<'static, $db>, contributions: &[(RollupCell, RollupCounters)]) -> Result<()> {
            if contributions.is_empty() {
                return Ok(());
            }
            add_rollup_rows(tx, &expand(contributions)).await
        }

        /// The key columns, in the order rows are bound or copied.
        const ROLLUP_KEY: &str = "grain, period, institution, classification, category, channel";

        /// Every column of a written row: the key, then the summed ones.
        fn rollup_row_columns() -> String {
            format!("{ROLLUP_KEY}, {}", rollup_columns().join(", "))
        }

        /// Ends an insert into `rollups` so that a key already there gets
        /// the new values added to its own.
        fn rollup_add_on_conflict() -> String {
            let updates: Vec<String> = rollup_columns().iter().map(|c| format!("{c} = rollups.{c} + excluded.{c}")).collect();
            format!("ON CONFLICT ({ROLLUP_KEY}) DO UPDATE SET {}", updates.join(", "))
        }

        /// Adds expanded rows: one upsert adds the counters and the
        /// histogram buckets.
        async fn add_rollup_rows(tx: &mut sqlx::Transaction<'static, $db>, rows: &BTreeMap<RollupKey, RollupCounters>) -> Result<()> {
            let keyed: Vec<(&RollupKey, &RollupCounters)> = rows.iter().collect();
            const KEY_BINDS: usize = 6;
            let per_row = KEY_BINDS + rollup_columns().len();
            let (columns, on_conflict) = (rollup_row_columns(), rollup_add_on_conflict());
            for chunk in crate::intake::shaped_chunks(&keyed) {
                let values: Vec<String> = (0..chunk.len()).map(|i| format!("({})", bind_params(i * per_row + 1, per_row))).collect();
                let sql = format!("INSERT INTO rollups ({columns}) VALUES {} {on_conflict}", values.join(", "));
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (k, c) in chunk {
                    q = bind_rollup_key(q, k);
                    for v in counter_values(c) {
                        q = q.bind(v);
                    }
                }
                q.execute(&mut **tx).await.map_err(db_err)?;
            }
            Ok(())
        }

        /// Adds changes to the overdue tallies (src/overdue.rs) in the
        /// caller's transaction.
        async fn add_overdue_tallies(
            tx: &mut sqlx::Transaction<'static, $db>,
            deltas: &BTreeMap<crate::overdue::TallyKey, i64>,
        ) -> Result<()> {
            let rows: Vec<(&crate::overdue::TallyKey, &i64)> = deltas.iter().filter(|(_, n)| **n != 0).collect();
            for chunk in crate::intake::shaped_chunks(&rows) {
                let values: Vec<String> = (0..chunk.len()).map(|i| format!("({})", bind_params(i * 6 + 1, 6))).collect();
                let sql = format!(
                    "INSERT INTO overdue_tallies (dim, label, span, due, holder, n) VALUES {} \
                     ON CONFLICT (dim, label, span, due, holder) DO UPDATE SET n = overdue_tallies.n + excluded.n",
                    values.join(", ")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (k, n) in chunk {
                    q = q.bind(k.dim).bind(k.label.as_str()).bind(k.span.as_str()).bind(k.due).bind(k.holder.as_str()).bind(**n);
                }
                q.execute(&mut **tx).await.map_err(db_err)?;
            }
            Ok(())
        }

        /// Counts the overdue tallies again from the reports, in the
        /// caller's transaction: after migration 19 and in a rebuild.
        async fn recount_overdue(tx: &mut sqlx::Transaction<'static, $db>) -> Result<()> {
            use crate::overdue::{HOLDER_SQL, LABELS, Span, counted_sql};
            sqlx::query("DELETE FROM overdue_tallies").execute(&mut **tx).await.map_err(db_err)?;
            let counted = counted_sql();
            let (day, month) = (<$store>::DUE_DAY, <$store>::DUE_MONTH);
            // `label`: a column, or None for the tallies of every report
            // (PostgreSQL refuses a constant in GROUP BY).
            let select = |dim: &str, label: Option<&str>, span: Span, due: &str| {
                let (value, having, by) = match label {
                    Some(c) => (c.to_string(), format!(" AND {c} IS NOT NULL"), format!("{c}, ")),
                    None => ("''".to_string(), String::new(), String::new()),
                };
                format!(
                    "SELECT '{dim}', {value}, '{}', {due}, {HOLDER_SQL}, COUNT(*) FROM reports \
                     WHERE {counted}{having} GROUP BY {by}{due}, {HOLDER_SQL}",
                    span.as_str()
                )
            };
            let mut parts = vec![select("", None, Span::Day, day), select("", None, Span::Month, month)];
            parts.extend(LABELS.iter().map(|l| select(l, Some(l), Span::Month, month)));
            let sql = format!("INSERT INTO overdue_tallies (dim, label, span, due, holder, n) {}", parts.join(" UNION ALL "));
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut **tx).await.map_err(db_err)?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl Rollups for $store {
            async fn rollup(&self, rq: &RollupQuery) -> Result<Vec<(String, RollupCounters)>> {
                rq.validate()?;
                let plan = rq.plan_with(<$store>::TEXT_SET, Some(<$store>::SEEK_SET));
                let Plan { with, cond, args, group, .. } = &plan;
                let histogram: Vec<String> = histogram_columns().iter().map(|h| h.0.clone()).collect();
                let sums: Vec<String> = rollup_columns()
                    .iter()
                    .map(|c| if (histogram.contains(c) && rq.histograms) || (!histogram.contains(c) && rq.columns.includes(c)) {
                        let term = plan.term(c);
                        format!("CAST(COALESCE(SUM({term}), 0) AS BIGINT) AS {c}")
                    } else {
                        format!("CAST(0 AS BIGINT) AS {c}")
                    })
                    .collect();
                let grouping = if rq.group == GroupBy::All { String::new() } else { format!(" GROUP BY {group}") };
                let text_key = !matches!(rq.group, GroupBy::Day | GroupBy::Month);
                let sql = format!("{with}SELECT {group} AS g, {} FROM rollups WHERE {cond}{grouping}", sums.join(", "));
                let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(sql)), args).fetch_all(&self.reader).await.map_err(db_err)?;
                let key = |r: &$row| -> Result<String> {
                    if text_key { get::<String>(r, "g") } else { get::<i64>(r, "g").map(|p| p.to_string()) }
                };
                let mut out: BTreeMap<String, RollupCounters> = BTreeMap::new();
                for r in &rows {
                    let c = counters_from_row(r)?;
                    if !c.is_zero() {
                        out.insert(key(r)?, c);
                    }
                }
                Ok(out.into_iter().collect())
            }

            async fn overdue_now(&self, oq: &OverdueQuery, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<(String, i64)>> {
                use crate::overdue::{HOLDER_SQL, counted_sql, split};
                fn push(args: &mut Vec<Arg>, a: Arg) -> String {
                    args.push(a);
                    format!("${}", args.len())
                }
                let mut labels: Vec<(&'static str, String)> = Vec::new();
                if let Some(c) = oq.classification {
                    labels.push(("classification", c.as_str().into()));
                }
                if let Some(c) = &oq.category {
                    labels.push(("category", c.clone()));
                }
                if let Some(c) = oq.channel {
                    labels.push(("channel", c.as_str().into()));
                }
                let plan = split(now, &labels);
                let mut args: Vec<Arg> = Vec::new();
                let with = match &oq.subtree {
                    Some(code) => subtree_sql(&push(&mut args, Arg::Text(code.clone()))),
                    None => String::new(),
                };
                // The holders asked for, as conditions on `column`.
                let holders = |column: &str, args: &mut Vec<Arg>| -> Vec<String> {
                    let mut conds = Vec::new();
                    if oq.subtree.is_some() {
                        conds.push(format!("{column} IN (SELECT code FROM sub)"));
                    }
                    if let Some(set) = &oq.institutions {
                        conds.push(in_list(column, set, <$store>::TEXT_SET, &mut |a| push(args, a)));
                    }
                    conds
                };
                let mut parts = Vec::new();
                if let Some((dim, label)) = &plan.tallies {
                    let mut spans = vec![("M", None, plan.months_before)];
                    if let Some(today) = plan.days_before {
                        spans.push(("D", Some(plan.months_before), today));
                    }
                    for (span, from, before) in spans {
                        let mut conds = vec![
                            format!("dim = {}", push(&mut args, Arg::Text(dim.to_string()))),
                            format!("label = {}", push(&mut args, Arg::Text(label.clone()))),
                            format!("span = '{span}'"),
                            format!("due < {}", push(&mut args, Arg::I64(before))),
                        ];
                        if let Some(from) = from {
                            conds.push(format!("due >= {}", push(&mut args, Arg::I64(from))));
                        }
                        conds.extend(holders("holder", &mut args));
                        parts.push(format!("SELECT holder, n FROM overdue_tallies WHERE {}", conds.join(" AND ")));
                    }
                }
                // The rest is counted live: due before now, from `live_from`.
                let mut conds = vec![counted_sql(), format!("due_at < {}", push(&mut args, Arg::Ts(Ts::new(now))))];
                if let Some(from) = plan.live_from {
                    conds.push(format!("due_at >= {}", push(&mut args, Arg::Ts(Ts::new(from)))));
                }
                for (dim, label) in &labels {
                    conds.push(format!("{dim} = {}", push(&mut args, Arg::Text(label.clone()))));
                }
                conds.extend(holders(HOLDER_SQL, &mut args));
                let table = if oq.subtree.is_some() || oq.institutions.is_some() { <$store>::OPEN_REPORTS_OF } else { <$store>::OPEN_REPORTS };
                parts.push(format!(
                    "SELECT {HOLDER_SQL} AS holder, COUNT(*) AS n FROM {table} WHERE {} GROUP BY {HOLDER_SQL}",
                    conds.join(" AND ")
                ));
                let sql = format!(
                    "{with}SELECT holder, CAST(SUM(n) AS BIGINT) AS n FROM ({}) AS t GROUP BY holder",
                    parts.join(" UNION ALL ")
                );
                let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(sql)), &args).fetch_all(&self.reader).await.map_err(db_err)?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    let n = get::<i64>(r, "n")?;
                    if n != 0 {
                        out.push((get::<String>(r, "holder")?, n));
                    }
                }
                Ok(out)
            }

            async fn admin_activity(&self, subtree: Option<&str>) -> Result<Vec<AdminSeen>> {
                let roles = ANSWERING_ROLES.iter().map(|r| format!("'{r}'")).collect::<Vec<_>>().join(", ");
                let (with, within) = match subtree {
                    Some(_) => (subtree_sql("$1"), " AND m.institution IN (SELECT code FROM sub)"),
                    None => (String::new(), ""),
                };
                let sql = format!(
                    "{with}SELECT u.id, u.name, m.role, m.institution, u.last_login_at FROM memberships m \
                     JOIN users u ON u.id = m.user_id WHERE m.role IN ({roles}){within} ORDER BY m.institution, u.name, u.id"
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                if let Some(code) = subtree {
                    q = q.bind(code);
                }
                let rows = q.fetch_all(&self.reader).await.map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        let role: String = get(r, "role")?;
                        Ok(AdminSeen {
                            user_id: get(r, "id")?,
                            name: get(r, "name")?,
                            role: lapor_domain::institution::Role::parse(&role)
                                .ok_or_else(|| Error::internal(format!("stored role {role:?}")))?,
                            institution: get(r, "institution")?,
                            last_login_at: get::<Option<Ts>>(r, "last_login_at")?.map(|t| t.0),
                        })
                    })
                    .collect()
            }

            async fn live_integrations(&self, since: chrono::DateTime<chrono::Utc>) -> Result<Vec<String>> {
                let rows = sqlx::query(
                    "SELECT c.institution AS code FROM api_keys k JOIN api_clients c ON c.id = k.client_id \
                     WHERE k.last_used_at >= $1 \
                     UNION SELECT s.institution AS code FROM webhook_deliveries d \
                     JOIN webhook_subscriptions s ON s.id = d.subscription_id \
                     WHERE d.state = 'delivered' AND d.finished_at >= $1 ORDER BY code",
                )
                .bind(Ts::new(since))
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter().map(|r| get::<String>(r, "code")).collect()
            }

            async fn bulk_load(&self, items: &[BulkReport], pin_hash: &str, rollups: &BTreeMap<RollupKey, RollupCounters>) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let t0 = std::time::Instant::now();
                sqlx::raw_sql(<$store>::BULK_SETUP).execute(&mut *tx).await.map_err(db_err)?;
                for chunk in crate::intake::shaped_chunks(items) {
                    let rows: Vec<String> = (0..chunk.len()).map(|i| format!("({})", bind_params(i * REPORT_BINDS + 1, REPORT_BINDS))).collect();
                    let sql = format!("INSERT INTO reports ({}, pin_hash, idempotency_key) VALUES {}", crate::filter::REPORT_COLS, rows.join(", "));
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for b in chunk {
                        q = bind_report(q, &b.report, b.wake_at).bind(pin_hash).bind(None::<&str>);
                    }
                    q.execute(&mut *tx).await.map_err(db_err)?;
                }
                let reports_done = t0.elapsed();
                let events: Vec<&lapor_domain::event::Event> = items.iter().flat_map(|b| b.events.iter()).collect();
                for chunk in crate::intake::shaped_chunks(&events) {
                    insert_event_rows(&mut tx, chunk).await?;
                }
                let events_done = t0.elapsed();
                let reports: Vec<&lapor_domain::report::Report> = items.iter().map(|b| &b.report).collect();
                insert_postings(&mut tx, &reports).await?;
                let postings_done = t0.elapsed();
                load_rollup_rows(&mut tx, rollups).await?;
                let mut tallies = BTreeMap::new();
                for t in items.iter().filter_map(|b| crate::overdue::Tracked::of(&b.report)) {
                    crate::overdue::add(&mut tallies, &t, 1);
                }
                add_overdue_tallies(&mut tx, &tallies).await?;
                let rollups_done = t0.elapsed();
                tx.commit().await.map_err(db_err)?;
                // Where a load's time goes (LAPOR_LOG=lapor_store=debug):
                // docs/performance.md breaks the generator down from it.
                tracing::debug!(
                    reports = ?reports_done,
                    events = ?(events_done - reports_done),
                    postings = ?(postings_done - events_done),
                    rollups = ?(rollups_done - postings_done),
                    commit = ?(t0.elapsed() - rollups_done),
                    "bulk load"
                );
                sqlx::raw_sql(<$store>::BULK_RESET).execute(&self.writer).await.map_err(db_err)?;
                Ok(())
            }

            async fn defer_indexes(&self) -> Result<Vec<String>> {
                let mut tx = self.begin_write().await?;
                let found = sqlx::query(<$store>::SECONDARY_INDEXES).fetch_all(&mut *tx).await.map_err(db_err)?;
                let mut names = Vec::new();
                for r in &found {
                    let (name, definition): (String, String) = (get(r, "name")?, get(r, "definition")?);
                    sqlx::query("INSERT INTO deferred_indexes (name, definition) VALUES ($1, $2)")
                        .bind(&name)
                        .bind(&definition)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP INDEX \"{name}\"")))
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    names.push(name);
                }
                tx.commit().await.map_err(db_err)?;
                Ok(names)
            }

            async fn restore_indexes(&self, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<u64> {
                let pending = sqlx::query("SELECT name, definition FROM deferred_indexes ORDER BY name")
                    .fetch_all(&self.writer)
                    .await
                    .map_err(db_err)?;
                let total = pending.len() as u64;
                progress(0, total);
                for (done, r) in pending.iter().enumerate() {
                    let name: String = get(r, "name")?;
                    let t = std::time::Instant::now();
                    let mut tx = self.begin_write().await?;
                    // Claimed inside the transaction: a second process
                    // restoring at the same time finds the row gone (or
                    // waits for it) and skips the index instead of failing
                    // on "already exists".
                    let claimed: Option<String> = sqlx::query_scalar("DELETE FROM deferred_indexes WHERE name = $1 RETURNING definition")
                        .bind(&name)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    if let Some(definition) = claimed {
                        sqlx::raw_sql(<$store>::INDEX_SETUP).execute(&mut *tx).await.map_err(db_err)?;
                        sqlx::raw_sql(sqlx::AssertSqlSafe(if_absent(&definition))).execute(&mut *tx).await.map_err(db_err)?;
                    }
                    tx.commit().await.map_err(db_err)?;
                    tracing::debug!(index = %name, elapsed = ?t.elapsed(), "index made again");
                    progress(done as u64 + 1, total);
                }
                sqlx::raw_sql(<$store>::BULK_RESET).execute(&self.writer).await.map_err(db_err)?;
                Ok(total)
            }

            async fn rollup_rows(&self) -> Result<BTreeMap<RollupKey, RollupCounters>> {
                let sql = format!("SELECT {} FROM rollups", rollup_row_columns());
                let key = |r: &$row| -> Result<RollupKey> {
                    let grain: String = get(r, "grain")?;
                    Ok(RollupKey {
                        grain: Grain::parse(&grain).ok_or_else(|| Error::internal(format!("stored grain {grain:?}")))?,
                        period: get(r, "period")?,
                        institution: get(r, "institution")?,
                        classification: get(r, "classification")?,
                        category: get(r, "category")?,
                        channel: get(r, "channel")?,
                    })
                };
                let mut out = BTreeMap::new();
                for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.reader).await.map_err(db_err)? {
                    out.insert(key(&r)?, counters_from_row(&r)?);
                }
                out.retain(|_, c| !c.is_zero());
                Ok(out)
            }

            async fn rebuild_rollups(&self, cal: &lapor_domain::calendar::Calendar, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<u64> {
                const BATCH: i64 = 2_000;
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM rollups").execute(&mut *tx).await.map_err(db_err)?;
                recount_overdue(&mut tx).await?;
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports").fetch_one(&mut *tx).await.map_err(db_err)?;
                let total = total.max(0) as u64;
                progress(0, total);
                let mut after = String::new();
                let mut done = 0u64;
                loop {
                    let ids: Vec<String> = sqlx::query_scalar("SELECT tracking_id FROM reports WHERE tracking_id > $1 ORDER BY tracking_id LIMIT $2")
                        .bind(after.as_str())
                        .bind(BATCH)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    let (Some(first), Some(last)) = (ids.first(), ids.last()) else { break };
                    let rows = sqlx::query(
                        "SELECT tracking_id, seq, at, actor, from_status, to_status, from_institution, to_institution, \
                         visibility, body, data FROM report_events WHERE tracking_id >= $1 AND tracking_id <= $2 ORDER BY tracking_id, seq",
                    )
                    .bind(first.as_str())
                    .bind(last.as_str())
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    let events: Vec<Event> = rows.iter().map(event_from_row).collect::<Result<_>>()?;
                    let mut contributions: Vec<(RollupCell, RollupCounters)> = Vec::new();
                    for report in events.chunk_by(|a, b| a.tracking_id == b.tracking_id) {
                        contributions.extend(lapor_domain::rollup::replay(report, cal));
                    }
                    add_rollups(&mut tx, &contributions).await?;
                    done += ids.len() as u64;
                    progress(done, total);
                    after = last.clone();
                }
                tx.commit().await.map_err(db_err)?;
                Ok(done)
            }
        }
    };
}

pub(crate) use rollups_impl;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_index_that_exists_is_skipped_not_an_error() {
        assert_eq!(
            if_absent("CREATE INDEX reports_submitted ON public.reports USING btree (submitted_at)"),
            "CREATE INDEX IF NOT EXISTS reports_submitted ON public.reports USING btree (submitted_at)"
        );
        assert_eq!(
            if_absent("create index  r ON t(a)"),
            "CREATE INDEX IF NOT EXISTS r ON t(a)"
        );
        for kept in [
            "CREATE INDEX IF NOT EXISTS r ON t(a)",
            "CREATE UNIQUE INDEX u ON t(a)",
            "CREATE",
        ] {
            assert_eq!(if_absent(kept), kept);
        }
    }

    const SET: &str = "SELECT value FROM json_each(#)";

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_split_into_whole_months_and_edge_days() {
        // Whole months only.
        assert_eq!(
            split_months(d(2026, 1, 1), d(2026, 3, 31)),
            (Some((d(2026, 1, 1), d(2026, 3, 31))), None, None)
        );
        // Edges on both sides.
        assert_eq!(
            split_months(d(2026, 1, 15), d(2026, 4, 10)),
            (
                Some((d(2026, 2, 1), d(2026, 3, 31))),
                Some((d(2026, 1, 15), d(2026, 1, 31))),
                Some((d(2026, 4, 1), d(2026, 4, 10)))
            )
        );
        // Inside one month: days only.
        assert_eq!(
            split_months(d(2026, 2, 3), d(2026, 2, 20)),
            (None, Some((d(2026, 2, 3), d(2026, 2, 20))), None)
        );
        // Across a year end, to the last day of a month.
        assert_eq!(
            split_months(d(2025, 12, 31), d(2026, 1, 31)),
            (
                Some((d(2026, 1, 1), d(2026, 1, 31))),
                Some((d(2025, 12, 31), d(2025, 12, 31))),
                None
            )
        );
    }

    #[test]
    fn a_period_is_covered_by_the_fewest_rows() {
        let piece = |month, from, to, minus| Piece { month, from, to, minus };
        // 90 days to 4 December: September less its first 5 days, October
        // and November, and 4 days of December.
        assert_eq!(
            cover(d(2026, 9, 6), d(2026, 12, 4)),
            vec![
                piece(true, d(2026, 9, 1), d(2026, 9, 30), false),
                piece(false, d(2026, 9, 1), d(2026, 9, 5), true),
                piece(true, d(2026, 10, 1), d(2026, 11, 30), false),
                piece(false, d(2026, 12, 1), d(2026, 12, 4), false),
            ]
        );
        // Inside one month, the days either side taken away; a leap February.
        assert_eq!(
            cover(d(2028, 2, 2), d(2028, 2, 28)),
            vec![
                piece(true, d(2028, 2, 1), d(2028, 2, 29), false),
                piece(false, d(2028, 2, 1), d(2028, 2, 1), true),
                piece(false, d(2028, 2, 29), d(2028, 2, 29), true),
            ]
        );
        // Half a month or less: its days.
        assert_eq!(
            cover(d(2026, 11, 16), d(2026, 11, 30)),
            vec![piece(false, d(2026, 11, 16), d(2026, 11, 30), false)]
        );
        // Every day of the period is counted once: added days and months
        // less taken days, day by day, over a few hundred periods.
        let start = d(2025, 12, 20);
        for a in (0..70).step_by(3) {
            for len in [0, 1, 13, 14, 15, 16, 27, 30, 45, 89, 120] {
                let (from, to) = (start + Duration::days(a), start + Duration::days(a + len));
                let mut count: BTreeMap<NaiveDate, i64> = BTreeMap::new();
                for p in cover(from, to) {
                    let mut day = p.from;
                    while day <= p.to {
                        *count.entry(day).or_default() += if p.minus { -1 } else { 1 };
                        day += Duration::days(1);
                    }
                }
                count.retain(|_, n| *n != 0);
                let want: Vec<NaiveDate> = (0..=len).map(|i| from + Duration::days(i)).collect();
                assert_eq!(count.keys().copied().collect::<Vec<_>>(), want, "{from}..{to}");
                assert!(count.values().all(|n| *n == 1), "{from}..{to}");
            }
        }
    }

    #[test]
    fn a_contribution_lands_in_every_grain_once() {
        let cell = Cell {
            institution: "pemkot-32.73".into(),
            day: d(2026, 11, 2),
            classification: Classification::Pengaduan,
            category: None,
            channel: Channel::Sms,
        };
        let mut c = Counters {
            followed_up: 1,
            ..Counters::default()
        };
        c.first_response_days.insert(400, 1);
        let rows = expand(&[(cell.clone(), c.clone()), (cell, c)]);
        // Eight grains, six of them also national.
        assert_eq!(rows.len(), 14);
        assert_eq!(rows.keys().filter(|k| k.institution == NATIONAL).count(), 6);
        for (k, v) in &rows {
            assert!(k.institution != NATIONAL || k.grain.national());
            assert_eq!(v.followed_up, 2);
            assert_eq!(
                v.first_response_days.get(&121),
                Some(&2),
                "long times share the last bucket"
            );
            match k.grain {
                Grain::Day => assert_eq!(
                    (k.period, k.category.as_str(), k.channel.as_str()),
                    (20261102, "", "sms")
                ),
                Grain::Month => assert_eq!(k.period, 202611),
                Grain::DayTotal | Grain::MonthTotal => assert_eq!(k.channel, ANY),
                Grain::MonthCategory | Grain::DayCategory => {
                    assert_eq!(
                        (k.classification.as_str(), k.category.as_str(), k.channel.as_str()),
                        (ANY, "", ANY)
                    )
                }
                Grain::MonthChannel | Grain::DayChannel => {
                    assert_eq!(
                        (k.classification.as_str(), k.category.as_str(), k.channel.as_str()),
                        (ANY, ANY, "sms")
                    )
                }
            }
        }
    }

    #[test]
    fn plans_pick_the_coarsest_grain_that_answers() {
        let q = RollupQuery {
            from: d(2026, 1, 1),
            to: d(2026, 6, 30),
            subtree: None,
            institutions: None,
            except: None,
            histograms: true,
            columns: Columns::All,
            classification: None,
            category: None,
            channel: None,
            group: GroupBy::Institution,
        };
        let plan = q.plan(SET);
        assert_eq!(plan.args[0], Arg::Text("M".into()));
        assert!(!plan.cond.contains("category"));
        let filtered = RollupQuery {
            category: Some("jalan".into()),
            ..q.clone()
        };
        assert_eq!(
            filtered.plan(SET).args[0],
            Arg::Text("K".into()),
            "one label: its own grain"
        );
        let by_channel = RollupQuery {
            group: GroupBy::Channel,
            ..q.clone()
        };
        assert_eq!(by_channel.plan(SET).args[0], Arg::Text("N".into()));
        let two_labels = RollupQuery {
            channel: Some(Channel::Sms),
            ..filtered.clone()
        };
        assert_eq!(
            two_labels.plan(SET).args[0],
            Arg::Text("m".into()),
            "two labels: every label"
        );
        // Edge days come from the day grain with the same labels.
        let edges = RollupQuery {
            from: d(2026, 1, 20),
            ..filtered.clone()
        };
        assert_eq!(edges.plan(SET).args[0], Arg::Text("k".into()));
        assert_eq!(edges.plan(SET).args[3], Arg::Text("K".into()));
        assert_eq!(edges.plan(SET).minus, None);
        // Most of January: the month, less its first days.
        let most = RollupQuery {
            from: d(2026, 1, 6),
            ..filtered.clone()
        };
        let plan = most.plan(SET);
        assert_eq!(plan.args[0], Arg::Text("K".into()));
        assert_eq!(
            plan.minus.as_deref(),
            Some("((grain = 'k' AND period BETWEEN 20260101 AND 20260105))")
        );
        assert_eq!(
            plan.term("submitted"),
            "CASE WHEN NOT ((grain = 'k' AND period BETWEEN 20260101 AND 20260105)) THEN submitted ELSE -submitted END"
        );
        let edges = RollupQuery {
            from: d(2026, 1, 20),
            ..two_labels.clone()
        };
        assert_eq!(edges.plan(SET).args[0], Arg::Text("d".into()));
        // Everything, by a label or none: the national rows; by
        // institution, or with two labels: the holders' rows.
        let national = |q: &RollupQuery| {
            let plan = q.plan(SET);
            assert!(plan.args.contains(&Arg::Text(NATIONAL.into())), "{}", plan.cond);
            plan.cond.contains("institution = $")
        };
        assert!(national(&by_channel));
        assert!(national(&RollupQuery {
            group: GroupBy::Day,
            ..filtered.clone()
        }));
        assert!(!national(&filtered), "by institution");
        assert!(!national(&q));
        assert!(!national(&two_labels));
        // Everything but some holders: the national rows minus theirs, or,
        // by institution, the others' rows.
        let except = |group| RollupQuery {
            group,
            except: Some(vec!["kemenkes".into()]),
            ..q.clone()
        };
        let minus = except(GroupBy::Category).plan(SET);
        assert!(minus.subtract);
        assert!(
            minus
                .cond
                .contains("period BETWEEN $2 AND $3) AND institution IN ($4, $5)"),
            "the national and excepted holders go into each span: {}",
            minus.cond
        );
        assert!(minus.args.contains(&Arg::Text(NATIONAL.into())));
        let by_institution = except(GroupBy::Institution).plan(SET);
        assert!(!by_institution.subtract);
        assert!(
            by_institution.cond.contains("AND NOT (institution IN ("),
            "{}",
            by_institution.cond
        );
        // A large set binds one JSON array, not a parameter per member.
        let many = RollupQuery {
            institutions: Some((0..40).map(|i| format!("i{i}")).collect()),
            ..q.clone()
        };
        let plan = many.plan(SET);
        assert!(
            plan.cond.contains("institution IN (SELECT value FROM json_each($4))"),
            "{}",
            plan.cond
        );
        assert_eq!(plan.args.len(), 4);
        let daily = RollupQuery {
            group: GroupBy::Day,
            ..q.clone()
        };
        assert_eq!(
            daily.plan(SET).args[..3],
            [Arg::Text("D".into()), Arg::I64(20260101), Arg::I64(20260630)]
        );
        let backwards = RollupQuery {
            from: d(2026, 2, 1),
            to: d(2026, 1, 1),
            ..q
        };
        assert_eq!(backwards.validate().unwrap_err().code, ErrorCode::ValidationFailed);
    }
}
