//! Recurring problems on an institution's dashboard: the topics
//! (`lapor_domain::recurring`) of the reports it holds that were submitted
//! in the period, newest first; and, from the same reports, those that
//! bounced between institutions (indicator 10).

use chrono::NaiveDate;
use lapor_domain::Error;
use lapor_domain::recurring::{self, Doc, Options};
use lapor_domain::rollup::wib_day;

use super::tree::Tree;
use super::{Filters, Scope};
use crate::AppState;

/// Most reports read for one view: the newest in the period. A problem
/// that recurs shows within them; reading more would slow the page.
pub const MAX_REPORTS: usize = 2_000;
/// Reports listed under a topic (the rest are one search away).
const SHOWN: usize = 8;
/// Bounced reports listed.
const BOUNCED_SHOWN: usize = 50;

#[derive(Debug, Clone)]
pub struct Topic {
    pub terms: Vec<String>,
    pub count: usize,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// The newest reports (Tracking ID, WIB day of submission).
    pub reports: Vec<(String, NaiveDate)>,
}

#[derive(Debug, Clone)]
pub struct Recurring {
    pub topics: Vec<Topic>,
    /// Reports transferred two or more times (Tracking ID, WIB day of
    /// submission, transfers), most transfers first.
    pub bounced: Vec<(String, NaiveDate, u32)>,
    /// Reports read, and whether the period held more.
    pub read: usize,
    pub capped: bool,
}

/// The recurring topics of an institution's or subtree's view; None for
/// the national and oversight views, which span too many institutions for
/// a topic to belong to one.
pub async fn load(st: &AppState, scope: &Scope, f: &Filters, tree: &Tree) -> Result<Option<Recurring>, Error> {
    if !matches!(scope, Scope::Institution(_) | Scope::Subtree(_)) {
        return Ok(None);
    }
    // One read of the newest words; one more row tells whether the
    // period held more.
    let filter = f.reports(scope, tree);
    let texts = super::timed("recurring: texts", st.store.report_texts(&filter, MAX_REPORTS + 1)).await?;
    // Tens of milliseconds of tokenising and pairing: on a blocking
    // thread, so the page's other reads are taken up as they finish
    // instead of waiting behind it (PostgreSQL, 1,000,000 reports: every
    // read of an institution's page came back at 41-44 ms, after it).
    tokio::task::spawn_blocking(move || find(texts))
        .await
        .map(Some)
        .map_err(|e| Error::internal(format!("recurring problems: {e}")))
}

/// The topics and bounced reports among `texts` (newest first).
fn find(mut texts: Vec<lapor_store::ReportText>) -> Recurring {
    let started = std::time::Instant::now();
    let capped = texts.len() > MAX_REPORTS;
    texts.truncate(MAX_REPORTS);
    let reports: Vec<(String, NaiveDate, String, String, u32)> = texts
        .into_iter()
        .map(|r| {
            (
                r.tracking_id,
                wib_day(r.submitted_at),
                r.title,
                r.body,
                u32::try_from(r.transfer_count).unwrap_or(0),
            )
        })
        .collect();
    let docs: Vec<Doc> = reports
        .iter()
        .map(|(_, day, title, body, _)| Doc {
            day: *day,
            terms: lapor_domain::search::terms(&format!("{title} {body}")),
        })
        .collect();
    let terms_ms = started.elapsed().as_secs_f64() * 1e3;
    let found = recurring::find(&docs, Options::default());
    tracing::debug!(
        terms_ms,
        topics_ms = started.elapsed().as_secs_f64() * 1e3 - terms_ms,
        docs = docs.len(),
        "recurring problems found"
    );
    let topics = found
        .into_iter()
        .map(|t| Topic {
            count: t.docs.len(),
            first: t.first,
            last: t.last,
            reports: t
                .docs
                .iter()
                .take(SHOWN)
                .map(|&i| (reports[i].0.clone(), reports[i].1))
                .collect(),
            terms: t.terms,
        })
        .collect();
    let mut bounced: Vec<(String, NaiveDate, u32)> = reports
        .iter()
        .filter(|r| r.4 >= 2)
        .map(|r| (r.0.clone(), r.1, r.4))
        .collect();
    bounced.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)));
    bounced.truncate(BOUNCED_SHOWN);
    Recurring {
        topics,
        bounced,
        read: reports.len(),
        capped,
    }
}
