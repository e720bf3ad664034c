//! Report list filters, compiled to one SQL text that both backends accept.

use crate::ts::Ts;
use lapor_domain::error::{Error, ErrorCode};
use lapor_domain::report::{Classification, Report, Status};

/// A bind value for dynamically built queries.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    I64(i64),
    Ts(Ts),
}

#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub statuses: Vec<Status>,
    /// Reports assigned to this institution or any institution/unit below it.
    pub institution_subtree: Option<String>,
    /// Restricts to the union of these subtrees (the caller's scope). An
    /// empty `Some(vec![])` matches nothing.
    pub scope: Option<Vec<String>>,
    /// Only reports held by one of these institutions or units, listed
    /// out. Unlike a subtree's recursive CTE, PostgreSQL can estimate a
    /// short list, and reads the holders' indexes instead of walking every
    /// report by date. An empty `Some(vec![])` matches nothing.
    pub holders: Option<Vec<String>>,
    pub classification: Option<Classification>,
    /// Only reports that arrived through this channel.
    pub channel: Option<lapor_domain::report::Channel>,
    pub category: Option<String>,
    /// A Kemendagri region code; matches it and every region below it.
    pub region: Option<String>,
    pub submitted_from: Option<Ts>,
    pub submitted_before: Option<Ts>,
    /// Only reports whose running deadline passed before this instant.
    pub overdue_at: Option<Ts>,
    /// Only reports the public may see.
    pub public_only: bool,
    pub reporter_id: Option<String>,
    /// Full-text search: stemmed terms (`lapor_domain::search::query_terms`)
    /// that must all occur in the title or body. The store puts the rarest
    /// first, since the first term drives the scan.
    pub terms: Vec<String>,
    /// Only reports with this liaison officer named.
    pub liaison: Option<String>,
    /// Only reports at this stage with the Ombudsman (the oversight queue).
    pub ombudsman: Option<lapor_domain::report::Ombudsman>,
    /// Queues list the oldest first (the cursor then moves forward in time).
    pub oldest_first: bool,
    pub cursor: Option<Cursor>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportPage {
    pub items: Vec<Report>,
    pub next_cursor: Option<String>,
}

/// Keyset position: newest first, ties broken by Tracking ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub submitted_at_ms: i64,
    pub tracking_id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}~{}", self.submitted_at_ms, self.tracking_id)
    }
    pub fn decode(s: &str) -> Result<Cursor, Error> {
        let bad = || Error::with(ErrorCode::InvalidQuery, "cursor");
        let (ms, id) = s.split_once('~').ok_or_else(bad)?;
        let submitted_at_ms = ms.parse().map_err(|_| bad())?;
        if id.is_empty() || id.len() > 16 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(bad());
        }
        Ok(Cursor {
            submitted_at_ms,
            tracking_id: id.to_string(),
        })
    }
}

/// The columns of a [`crate::ReportSummary`] (exports).
pub(crate) const SUMMARY_COLS: &str = "tracking_id, submitted_at, status, classification, category, channel, region_code, institution, unit, due_at, first_response_at, completed_at, rating, transfer_count, reopen_count, anonymous, confidential";

pub(crate) const TEXT_COLS: &str = "tracking_id, submitted_at, title, body, channel, transfer_count";
pub(crate) const REPORT_COLS: &str = "tracking_id, version, status, classification, needs_investigation, category, title, body, incident_date, region_code, latitude, longitude, anonymous, confidential, channel, reporter_id, suggested_institution, institution, unit, zone, policy, stage, due_at, held_from, held_at, rating, rating_comment, reopen_count, transfer_count, archive_reason, merged_into, submitted_at, updated_at, first_response_at, completed_at, liaison, extension_count, reminded_due, escalation_level, ombudsman, wake_at";

/// Number of columns in `REPORT_COLS`.
pub(crate) const REPORT_COL_COUNT: usize = {
    let b = REPORT_COLS.as_bytes();
    let mut n = 1;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b',' {
            n += 1;
        }
        i += 1;
    }
    n
};

/// Condition under which the public may see a report; mirrors `Report::is_public`.
pub(crate) const PUBLIC_CONDITION: &str = "confidential = FALSE AND institution IS NOT NULL AND status <> 'merged' AND (archive_reason IS NULL OR archive_reason <> 'spam')";

const OPEN_STATUSES: &str = "('submitted','dispositioned','in_progress')";

/// Up to this many arms (two per holder, times the statuses asked for), a
/// date-ordered page reads each holder's index range on its own. SQLite
/// merges at most 500 in one compound statement.
const MAX_ARMS: usize = 64;

struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
}

fn subtree_cte(name: &str, seeds: &str) -> String {
    format!(
        "{name}(code) AS (SELECT code FROM institutions WHERE code IN ({seeds}) \
         UNION SELECT i.code FROM institutions i JOIN {name} s ON i.parent_code = s.code)"
    )
}

impl ReportFilter {
    /// Builds the SELECT. Returns `None` when the filter can match nothing.
    pub(crate) fn to_sql(&self) -> Option<(String, Vec<Arg>)> {
        self.build(REPORT_COLS, Some(self.limit.clamp(1, 500) + 1), true)
    }

    /// Every match as summaries, newest first (limit and cursor ignored).
    pub(crate) fn to_export_sql(&self) -> Option<(String, Vec<Arg>)> {
        let all = ReportFilter {
            cursor: None,
            ..self.clone()
        };
        all.build(SUMMARY_COLS, None, true)
    }

    /// One page of the export: `limit` summaries after the cursor.
    pub(crate) fn to_export_page_sql(&self, limit: usize) -> Option<(String, Vec<Arg>)> {
        self.build(SUMMARY_COLS, Some(limit.max(1) as i64), true)
    }

    /// The newest `limit` matches' words (limit and cursor ignored).
    pub(crate) fn to_texts_sql(&self, limit: usize) -> Option<(String, Vec<Arg>)> {
        let all = ReportFilter {
            cursor: None,
            ..self.clone()
        };
        all.build(TEXT_COLS, Some(limit.max(1) as i64), true)
    }

    /// Counts matches, up to `cap` (queues show "10.000+" rather than scan
    /// everything).
    pub(crate) fn to_count_sql(&self, cap: i64) -> Option<(String, Vec<Arg>)> {
        let plain = ReportFilter {
            cursor: None,
            ..self.clone()
        };
        // A count needs no order: any `cap` matches will do.
        let (sql, args) = plain.build(REPORT_COLS, Some(cap.max(1)), false)?;
        Some((format!("SELECT COUNT(*) FROM ({sql}) counted"), args))
    }

    fn build(&self, cols: &str, limit: Option<i64>, ordered: bool) -> Option<(String, Vec<Arg>)> {
        let mut q = Sql {
            text: String::new(),
            args: Vec::new(),
        };
        let mut ctes = Vec::new();
        let mut conds: Vec<String> = Vec::new();
        if let Some(scope) = &self.scope {
            if scope.is_empty() {
                return None;
            }
            let seeds: Vec<String> = scope.iter().map(|c| q.arg(Arg::Text(c.clone()))).collect();
            ctes.push(subtree_cte("scope_tree", &seeds.join(",")));
            conds
                .push("(institution IN (SELECT code FROM scope_tree) OR unit IN (SELECT code FROM scope_tree))".into());
        }
        // A page of a few holders' reports in date order: one index range
        // per holder, each newest first and cut at the limit, merged (see
        // the status arms below). One `IN` over them all sorted every report
        // of the period first (SQLite, 10,000,000 reports, Kota Bandung's
        // newest 2,001 of 18,000 in 90 days: 148 ms).
        let mut holder_arms: Vec<Option<String>> = vec![None];
        if let Some(holders) = &self.holders {
            if holders.is_empty() {
                return None;
            }
            let ps: Vec<String> = holders.iter().map(|c| q.arg(Arg::Text(c.clone()))).collect();
            let list = ps.join(", ");
            // Each status of several has its own arms too (below): the
            // product stays within what one statement may merge.
            let arms = 2 * holders.len() * self.statuses.len().max(1);
            if ordered && limit.is_some() && self.terms.is_empty() && arms <= MAX_ARMS {
                // A report held by a unit of a holder in the list is found
                // through its institution; the unit arms take the others.
                holder_arms = ps.iter().map(|p| Some(format!("institution = {p}"))).collect();
                holder_arms.extend(ps.iter().map(|p| {
                    Some(format!(
                        "unit = {p} AND (institution IS NULL OR institution NOT IN ({list}))"
                    ))
                }));
            } else {
                conds.push(format!("(institution IN ({list}) OR unit IN ({list}))"));
            }
        }
        if let Some(root) = &self.institution_subtree {
            let p = q.arg(Arg::Text(root.clone()));
            ctes.push(subtree_cte("filter_tree", &p));
            conds.push(
                "(institution IN (SELECT code FROM filter_tree) OR unit IN (SELECT code FROM filter_tree))".into(),
            );
        }
        let status_ps: Vec<String> = self
            .statuses
            .iter()
            .map(|s| q.arg(Arg::Text(s.as_str().into())))
            .collect();
        if let Some(c) = self.classification {
            conds.push(format!("classification = {}", q.arg(Arg::Text(c.as_str().into()))));
        }
        if let Some(c) = self.channel {
            conds.push(format!("channel = {}", q.arg(Arg::Text(c.as_str().into()))));
        }
        if let Some(c) = &self.category {
            conds.push(format!("category = {}", q.arg(Arg::Text(c.clone()))));
        }
        if let Some(r) = &self.region {
            // Region codes nest by prefix; '/' sorts right after '.', so this
            // range is the code and everything below it, and uses the index.
            let a = q.arg(Arg::Text(r.clone()));
            let b = q.arg(Arg::Text(format!("{r}/")));
            conds.push(format!("(region_code >= {a} AND region_code < {b})"));
        }
        if let Some(t) = self.submitted_from {
            conds.push(format!("submitted_at >= {}", q.arg(Arg::Ts(t))));
        }
        if let Some(t) = self.submitted_before {
            conds.push(format!("submitted_at < {}", q.arg(Arg::Ts(t))));
        }
        if let Some(t) = self.overdue_at {
            conds.push(format!("status IN {OPEN_STATUSES} AND due_at < {}", q.arg(Arg::Ts(t))));
        }
        if self.public_only {
            conds.push(PUBLIC_CONDITION.into());
        }
        if let Some(r) = &self.reporter_id {
            conds.push(format!("reporter_id = {}", q.arg(Arg::Text(r.clone()))));
        }
        if let Some(l) = &self.liaison {
            conds.push(format!("liaison = {}", q.arg(Arg::Text(l.clone()))));
        }
        if let Some(o) = self.ombudsman {
            conds.push(format!("ombudsman = {}", q.arg(Arg::Text(o.as_str().into()))));
        }
        // With search terms the first term's postings drive the query, in
        // their index order (newest first); the others are probed per report.
        let (from, order_at, order_id) = match self.terms.split_first() {
            None => ("reports".to_string(), "submitted_at", "tracking_id"),
            Some((first, rest)) => {
                conds.push(format!("t0.term = {}", q.arg(Arg::Text(first.clone()))));
                for t in rest {
                    let p = q.arg(Arg::Text(t.clone()));
                    conds.push(format!(
                        "EXISTS (SELECT 1 FROM report_terms tx WHERE tx.doc = t0.doc AND tx.term = {p})"
                    ));
                }
                (
                    "report_terms t0 JOIN reports ON reports.tracking_id = t0.doc".to_string(),
                    "t0.sort_at",
                    "t0.doc",
                )
            }
        };
        if let Some(c) = &self.cursor {
            let ts = q.arg(Arg::Ts(Ts(
                chrono::DateTime::from_timestamp_millis(c.submitted_at_ms).unwrap_or_default()
            )));
            let id = q.arg(Arg::Text(c.tracking_id.clone()));
            let cmp = if self.oldest_first { '>' } else { '<' };
            // One row-value range the index seeks to. Written as
            // `at < ts OR (at = ts AND id < …)`, SQLite's planner sometimes
            // answered it as two index reads merged and sorted: deep in a
            // million-row export each page then took 300 ms instead of 1.5.
            conds.push(format!("({order_at}, {order_id}) {cmp} ({ts}, {id})"));
        }
        let dir = if self.oldest_first { "ASC" } else { "DESC" };
        if !ctes.is_empty() {
            q.text.push_str("WITH RECURSIVE ");
            q.text.push_str(&ctes.join(", "));
            q.text.push(' ');
        }
        let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let order = if ordered {
            format!(" ORDER BY {order_at} {dir}, {order_id} {dir}{limit}")
        } else {
            limit
        };
        let select = |status: Option<String>, holder: &Option<String>| {
            let all: Vec<&str> = status
                .iter()
                .chain(holder)
                .map(String::as_str)
                .chain(conds.iter().map(String::as_str))
                .collect();
            let filter = if all.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", all.join(" AND "))
            };
            format!("SELECT {cols} FROM {from}{filter}{order}")
        };
        // Several statuses in date order (the verification queue is
        // submitted + on hold): one index range per status, each already in
        // order and cut at the limit, then merged. A single
        // `status IN (…) ORDER BY` would sort every match first. The arms
        // are disjoint, so the merge counts no report twice.
        let status_arms: Vec<Option<String>> = if ordered && self.terms.is_empty() && status_ps.len() > 1 {
            status_ps.iter().map(|p| Some(format!("status = {p}"))).collect()
        } else {
            vec![(!status_ps.is_empty()).then(|| format!("status IN ({})", status_ps.join(",")))]
        };
        if status_arms.len() * holder_arms.len() > 1 {
            let arms: Vec<String> = status_arms
                .iter()
                .flat_map(|status| holder_arms.iter().map(move |holder| (status, holder)))
                .enumerate()
                .map(|(i, (status, holder))| format!("SELECT * FROM ({}) s{i}", select(status.clone(), holder)))
                .collect();
            q.text
                .push_str(&format!("SELECT * FROM ({}) merged{order}", arms.join(" UNION ALL ")));
        } else {
            q.text.push_str(&select(status_arms[0].clone(), &holder_arms[0]));
        }
        Some((q.text, q.args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_roundtrip_and_garbage() {
        let c = Cursor {
            submitted_at_ms: 1_764_000_000_000,
            tracking_id: "7KQ4-M2XJ".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in ["", "abc", "12~", "x~ABCD", "1~'; DROP TABLE reports; --"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bind_parameters_are_numbered_in_order() {
        let f = ReportFilter {
            scope: Some(vec!["a".into(), "b".into()]),
            statuses: vec![Status::Submitted],
            region: Some("32.73".into()),
            limit: 10,
            ..Default::default()
        };
        let (sql, args) = f.to_sql().unwrap();
        assert_eq!(args.len(), 5);
        for i in 1..=5 {
            assert!(sql.contains(&format!("${i}")));
        }
        assert!(!sql.contains("$6"));
        assert!(sql.ends_with("LIMIT 11"));
    }

    #[test]
    fn several_statuses_merge_one_ordered_range_per_status() {
        let f = ReportFilter {
            statuses: vec![Status::Submitted, Status::OnHold],
            category: Some("jalan".into()),
            oldest_first: true,
            limit: 50,
            ..Default::default()
        };
        let (sql, args) = f.to_sql().unwrap();
        assert_eq!(args.len(), 3);
        assert_eq!(sql.matches("UNION ALL").count(), 1);
        assert!(sql.contains("status = $1") && sql.contains("status = $2"), "{sql}");
        assert_eq!(sql.matches("category = $3").count(), 2, "{sql}");
        assert!(
            sql.ends_with("ORDER BY submitted_at ASC, tracking_id ASC LIMIT 51"),
            "{sql}"
        );
        // With search terms the postings drive the query instead.
        let searched = ReportFilter {
            terms: vec!["jalan".into()],
            ..f
        };
        assert!(!searched.to_sql().unwrap().0.contains("UNION"));
    }

    #[test]
    fn a_few_holders_merge_one_ordered_range_per_holder() {
        let codes = |n: usize| Some((0..n).map(|i| format!("pemkot-{i}")).collect::<Vec<_>>());
        let f = ReportFilter {
            holders: codes(2),
            statuses: vec![Status::Submitted, Status::OnHold],
            limit: 20,
            ..Default::default()
        };
        let (sql, _) = f.to_sql().unwrap();
        // Two statuses × (two institutions + two units).
        assert_eq!(sql.matches("UNION ALL").count(), 7, "{sql}");
        assert!(
            sql.contains("unit = $1 AND (institution IS NULL OR institution NOT IN ($1, $2))"),
            "{sql}"
        );
        assert!(
            sql.ends_with("ORDER BY submitted_at DESC, tracking_id DESC LIMIT 21"),
            "{sql}"
        );
        // Too many arms, a count, or a whole export: one `IN` instead.
        let many = ReportFilter {
            holders: codes(33),
            statuses: vec![],
            ..f.clone()
        };
        assert!(!many.to_sql().unwrap().0.contains("UNION"));
        assert!(!f.to_count_sql(100).unwrap().0.contains("UNION"));
        let one_status = ReportFilter {
            statuses: vec![Status::Submitted],
            ..f.clone()
        };
        assert!(!one_status.to_export_sql().unwrap().0.contains("UNION"));
        assert_eq!(one_status.to_sql().unwrap().0.matches("UNION ALL").count(), 3);
    }

    #[test]
    fn empty_scope_matches_nothing() {
        let f = ReportFilter {
            scope: Some(vec![]),
            limit: 10,
            ..Default::default()
        };
        assert!(f.to_sql().is_none());
    }
}
