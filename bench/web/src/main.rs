//! Citizen web benchmark, per backend (the workspace one is `src/bin/workspace.rs`):
//!
//! 1. **Search** over N generated public reports (default 1,000,000) with
//!    realistic Indonesian complaint wording: p50/p95/p99 of a first page
//!    of 20 results for a rotating set of queries, against the baseline of
//!    the same page without search terms (the plain newest-first listing,
//!    i.e. what the database gives with no text condition at all).
//! 2. **Pages**: server time of `/lapor` (the report form) and `/lacak/{id}`
//!    (the track page) over loopback keep-alive, against `/healthz` (the
//!    HTTP floor) measured in the same run.
//! 3. **Weight** of the submit page: HTML plus its stylesheet and script
//!    (no map tiles).
//!
//!   cargo run --release -p lapor-bench-web -- --reports 1000000
//!
//! PostgreSQL is used when LAPOR_TEST_PG_URL is set; the
//! benchmark creates and drops its own database there.

use chrono::{Duration as CDuration, TimeZone, Utc};
use clap::Parser;
use lapor_bench_web::{Fixture, Lat, Rng, attr, bench_page, get_text, load, pct, post_form, submission, summary};
use lapor_domain::calendar::Calendar;
use lapor_domain::report::Status;
use lapor_server::{AppState, ServerConfig};
use lapor_store::testing::TestDb;
use lapor_store::{NewReport, ReportFilter, Store};
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// Generated reports to search over.
    #[arg(long, default_value_t = 1_000_000)]
    reports: u64,
    /// Timed search queries (after a warm-up round).
    #[arg(long, default_value_t = 600)]
    queries: usize,
    /// Timed requests per page.
    #[arg(long, default_value_t = 1000)]
    page_requests: usize,
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
}

/// Public searches people would type, common and rare.
const QUERIES: &[&str] = &[
    "perbaikan jalan",
    "lampu mati",
    "sampah menumpuk",
    "puskesmas antre",
    "pungutan liar",
    "jembatan retak",
    "saluran tersumbat banjir",
    "pelayanan ktp lambat",
    "jalan rusak berlubang",
    "parkir liar",
    "air pdam bocor",
    "sekolah pungutan",
    "trotoar rusak",
    "terminal kotor",
    "diperbaiki rusak lagi",
    "jalan",
    "banjir",
    "posyandu terbengkalai",
    "gorong-gorong",
    "pemakaman",
];

/// Two years of reports, newest last; most have been forwarded (which
/// makes them public). This is a fixture, so the projection is set directly.
fn generate(fx: &Fixture, rng: &mut Rng, i: u64) -> NewReport {
    let at = Utc.with_ymd_and_hms(2024, 11, 1, 0, 0, 0).unwrap() + CDuration::seconds((i * 63) as i64);
    let (mut r, institution) = submission(fx, rng, i, at);
    if !i.is_multiple_of(7) {
        r.report.status = if i.is_multiple_of(2) {
            Status::InProgress
        } else {
            Status::Completed
        };
        r.report.institution = Some(institution);
    }
    r
}

async fn timed_list(store: &Arc<dyn Store>, f: &ReportFilter) -> (f64, usize) {
    let t = Instant::now();
    let page = store.list_reports(f).await.expect("list");
    (t.elapsed().as_secs_f64() * 1000.0, page.items.len())
}

async fn bench_search(store: &Arc<dyn Store>, rounds: usize) -> (Lat, Lat, Vec<(String, f64, usize)>) {
    let filter = |q: &str| ReportFilter {
        public_only: true,
        terms: lapor_domain::search::query_terms(q),
        limit: 20,
        ..Default::default()
    };
    // Warm-up: one pass over every query and the baseline.
    for q in QUERIES {
        timed_list(store, &filter(q)).await;
    }
    timed_list(store, &filter("")).await;
    let mut search = Vec::with_capacity(rounds);
    let mut base = Vec::with_capacity(rounds);
    let mut per_query: Vec<(String, Vec<f64>, usize)> = QUERIES.iter().map(|q| (q.to_string(), vec![], 0)).collect();
    for i in 0..rounds {
        let k = i % QUERIES.len();
        let (ms, n) = timed_list(store, &filter(QUERIES[k])).await;
        search.push(ms);
        per_query[k].1.push(ms);
        per_query[k].2 = n;
        base.push(timed_list(store, &filter("")).await.0);
    }
    let per = per_query
        .into_iter()
        .map(|(q, mut xs, n)| (q, pct(&mut xs, 0.95), n))
        .collect();
    (summary(search), summary(base), per)
}

/// One page's latencies against the HTTP floor and the 10 ms target.
fn page_line(name: &str, l: &Lat, floor: &Lat) -> String {
    format!(
        "  {name:<23} p50 {:6.2} ms  p95 {:6.2} ms  p99 {:6.2} ms   p95 / floor = {:.1}x   target p95 < 10 ms: {}",
        l.p50,
        l.p95,
        l.p99,
        l.p95 / floor.p95,
        if l.p95 < 10.0 { "met" } else { "MISSED" }
    )
}

async fn bench_pages(store: Arc<dyn Store>, requests: usize) -> Vec<String> {
    let state = AppState::new(store, Calendar::embedded(), vec![], ServerConfig::unthrottled())
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(lapor_server::serve(listener, lapor_server::router(state)));
    let client = reqwest::Client::builder().cookie_store(true).build().expect("client");
    // A report with a known PIN, and the track grant for it.
    let v: serde_json::Value = client
        .post(format!("{base}/api/v1/reports"))
        .json(&serde_json::json!({
            "classification": "pengaduan", "title": "Jalan berlubang di Jl. Setiabudi",
            "body": "Lubang besar di depan sekolah membahayakan pengendara motor setiap pagi.",
            "region_code": "32.73"
        }))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    let (id, pin) = (v["tracking_id"].as_str().unwrap_or(""), v["pin"].as_str().unwrap_or(""));
    let login = get_text(&client, &format!("{base}/lacak")).await;
    let csrf = attr(&login, "name=\"csrf\" value=\"");
    let status = post_form(
        &client,
        &format!("{base}/lacak"),
        &[("csrf", &csrf), ("id", id), ("pin", pin)],
    )
    .await;
    assert!(status.is_success(), "track login: {status}");

    let (floor, _) = bench_page(&client, &format!("{base}/healthz"), requests).await;
    let (form, form_bytes) = bench_page(&client, &format!("{base}/lapor"), requests).await;
    let (track, _) = bench_page(&client, &format!("{base}/lacak/{id}"), requests).await;
    let form_html = get_text(&client, &format!("{base}/lapor")).await;
    let mut weight = form_bytes;
    for asset in [
        attr(&form_html, "<link rel=\"stylesheet\" href=\""),
        attr(&form_html, "<script src=\""),
    ] {
        weight += client
            .get(format!("{base}{}", asset.replace("&amp;", "&")))
            .send()
            .await
            .expect("asset")
            .bytes()
            .await
            .expect("bytes")
            .len();
    }
    vec![
        format!(
            "  /healthz (HTTP floor)   p50 {:6.2} ms  p95 {:6.2} ms  p99 {:6.2} ms",
            floor.p50, floor.p95, floor.p99
        ),
        page_line("/lapor  (report form)", &form, &floor),
        page_line("/lacak/ID (track page)", &track, &floor),
        format!(
            "  submit page weight: {form_bytes} B HTML + CSS + JS = {weight} B ({:.0} KB; target < 300 KB: {})",
            weight as f64 / 1024.0,
            if weight < 300 * 1024 { "met" } else { "MISSED" }
        ),
    ]
}

async fn run(name: &str, db: TestDb, args: &Args) -> Vec<String> {
    let store = db.store.clone();
    let fx = Fixture::seed(&store).await;
    eprintln!("[{name}] loading {} reports…", args.reports);
    let secs = load(&store, args.reports, |rng, i| generate(&fx, rng, i)).await;
    let t = Instant::now();
    store.analyze().await.expect("analyze");
    let analyze = t.elapsed().as_secs_f64();
    let (search, base, per) = bench_search(&store, args.queries).await;
    let mut out = vec![
        format!(
            "{name}: {} reports loaded in {secs:.0} s ({:.0}/s, postings included); ANALYZE {analyze:.1} s",
            args.reports,
            args.reports as f64 / secs
        ),
        format!(
            "  search, first page of 20   p50 {:6.2} ms  p95 {:6.2} ms  p99 {:6.2} ms   target p95 < 100 ms: {}",
            search.p50,
            search.p95,
            search.p99,
            if search.p95 < 100.0 { "met" } else { "MISSED" }
        ),
        format!(
            "  baseline: newest-first listing without terms   p50 {:6.2} ms  p95 {:6.2} ms   search p95 / baseline p95 = {:.1}x",
            base.p50,
            base.p95,
            search.p95 / base.p95
        ),
    ];
    for (q, p95, n) in per {
        out.push(format!("    {q:<26} p95 {p95:7.2} ms  ({n} on page 1)"));
    }
    out.extend(bench_pages(store.clone(), args.page_requests).await);
    db.close().await;
    out
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let lines = vec![format!(
        "lapor-bench-web: {} reports, {} timed queries, {} requests per page",
        args.reports, args.queries, args.page_requests
    )];
    lapor_bench_web::print_per_backend(&args.backend, lines, async |name, db| run(name, db, &args).await).await;
}
