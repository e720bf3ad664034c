//! Institution workspace benchmark, per backend, with N pending reports
//! (default 100,000) waiting in the national verification queue:
//!
//! 1. **Queue page** `/staf` as the national admin, signed in through the
//!    real sign-in with a TOTP code: the first page (oldest first, with
//!    working-day countdowns), the overdue filter, a category filter and the
//!    second page through the cursor. Baselines measured in the same run:
//!    `/healthz` (the HTTP floor) and the store calls the page makes, issued
//!    directly (the database ceiling).
//! 2. **Verify and disposition**: the report page's form posted to
//!    `/staf/laporan/{id}/aksi`, timed to the 303, for the oldest reports
//!    (the page's own form token and version are fetched untimed first).
//!    Baseline: the same disposition decided and appended through the store
//!    directly (load, decide, one transaction), on other reports.
//!
//!   cargo run --release -p lapor-bench-web --bin workspace -- --reports 100000
//!
//! PostgreSQL is used when LAPOR_TEST_PG_URL is set; the benchmark creates
//! and drops its own database there.

use chrono::{Duration as CDuration, Utc};
use clap::Parser;
use lapor_bench_web::{
    Fixture, Lat, attr, bench_page, borrowed, get_text, line, load, post_form, sign_in, submission, summary,
};
use lapor_domain::calendar::Calendar;
use lapor_domain::event::Actor;
use lapor_domain::institution::InstitutionKind;
use lapor_domain::institution::Role;
use lapor_domain::lifecycle::{Command, Ctx, InstitutionTarget, decide};
use lapor_domain::report::Status;
use lapor_server::{AppState, ServerConfig};
use lapor_store::testing::TestDb;
use lapor_store::{Change, ReportFilter, Store};
use reqwest::redirect::Policy;
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// Pending reports in the verification queue.
    #[arg(long, default_value_t = 100_000)]
    reports: u64,
    /// Timed requests per queue page variant.
    #[arg(long, default_value_t = 500)]
    page_requests: usize,
    /// Timed verify-and-disposition actions (and as many baseline writes).
    #[arg(long, default_value_t = 300)]
    actions: usize,
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
}

const CATEGORIES: &[&str] = &["jalan", "kesehatan", "pendidikan", "bansos", "adminduk", "lingkungan"];

/// The queue page's "next" link, with its HTML escapes undone.
fn next_link(html: &str) -> String {
    let end = html.find("\" rel=\"next\"").expect("a next link");
    let start = html[..end].rfind("href=\"").expect("its href") + "href=\"".len();
    html[start..end].replace("&#38;", "&").replace("&amp;", "&")
}

/// The oldest `n` pending reports, through the store's queue order.
async fn oldest(store: &Arc<dyn Store>, n: usize, skip: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut f = ReportFilter {
        statuses: vec![Status::Submitted],
        oldest_first: true,
        limit: 100,
        ..Default::default()
    };
    while out.len() < n + skip {
        let page = store.list_reports(&f).await.expect("list");
        out.extend(page.items.iter().map(|r| r.tracking_id.to_string()));
        match page.next_cursor {
            Some(c) => f.cursor = Some(lapor_store::filter::Cursor::decode(&c).expect("cursor")),
            None => break,
        }
    }
    out.into_iter().skip(skip).take(n).collect()
}

/// Verify-and-disposition over HTTP: the form is fetched untimed, the post
/// is timed to its 303.
async fn bench_actions(client: &reqwest::Client, base: &str, ids: &[String]) -> Lat {
    let mut xs = Vec::with_capacity(ids.len());
    for id in ids {
        let html = get_text(client, &format!("{base}/staf/laporan/{id}")).await;
        let form = [
            ("csrf", attr(&html, "name=\"csrf\" value=\"")),
            ("ft", attr(&html, "name=\"ft\" value=\"")),
            ("v", attr(&html, "name=\"v\" value=\"")),
            ("aksi", "disposition".into()),
            // The first suggestion: the government of the report's location.
            ("instansi", attr(&html, "name=\"instansi\" value=\"")),
            ("klasifikasi", "pengaduan".into()),
        ];
        let t = Instant::now();
        let status = post_form(client, &format!("{base}/staf/laporan/{id}/aksi"), &borrowed(&form)).await;
        xs.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 303, "disposition of {id}");
    }
    summary(xs)
}

/// The database ceiling of the same write: load, decide, append.
async fn bench_raw_actions(store: &Arc<dyn Store>, fx: &Fixture, ids: &[String]) -> Lat {
    let mut xs = Vec::with_capacity(ids.len());
    for id in ids {
        let tid = lapor_domain::ids::TrackingId::parse(id).expect("id");
        let t = Instant::now();
        let stored = store.report(&tid).await.expect("load").expect("exists");
        let report = stored.report;
        let code = fx
            .governments
            .iter()
            .find(|(region, _)| {
                report
                    .region_code
                    .as_deref()
                    .is_some_and(|r| r.starts_with(region.as_str()))
            })
            .map(|(_, code)| code.clone())
            .unwrap_or_else(|| fx.governments[0].1.clone());
        let command = Command::Disposition {
            to: InstitutionTarget {
                code,
                kind: InstitutionKind::City,
                zone: report.zone,
                ancestors: vec!["lapor".into()],
            },
            classification: None,
            needs_investigation: None,
            category: None,
            note: None,
        };
        let ctx = Ctx {
            now: Utc::now(),
            actor: Actor::Staff {
                user_id: "u-bench".into(),
                role: Role::NationalAdmin,
                institution: "lapor".into(),
            },
            calendar: &fx.cal,
            policy: &fx.policy,
        };
        let event = decide(&report, &command, &ctx).expect("decide");
        let history = store.events(&tid).await.expect("history");
        let rollup = lapor_domain::rollup::contributions(&history, std::slice::from_ref(&event), &fx.cal);
        store
            .append(&Change {
                rollup,
                ..Change::single_event(&report, event).expect("apply")
            })
            .await
            .expect("append");
        xs.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    summary(xs)
}

/// The queue page's own store calls (first page and capped count), direct.
async fn bench_raw_queue(store: &Arc<dyn Store>, n: usize) -> Lat {
    let f = ReportFilter {
        statuses: vec![Status::Submitted, Status::OnHold],
        oldest_first: true,
        limit: 50,
        ..Default::default()
    };
    let mut xs = Vec::with_capacity(n);
    for i in 0..n + 20 {
        let t = Instant::now();
        let (page, count) = tokio::join!(store.list_reports(&f), store.count_reports(&f, 10_000));
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert!(!page.expect("list").items.is_empty() && count.expect("count") > 0);
        if i >= 20 {
            xs.push(ms);
        }
    }
    summary(xs)
}

async fn run(name: &str, db: TestDb, args: &Args) -> Vec<String> {
    let store = db.store.clone();
    let fx = Fixture::seed(&store).await;
    eprintln!("[{name}] loading {} pending reports…", args.reports);
    // Submitted over the last 40 days, oldest first: the head of the queue
    // is overdue, the tail is fresh.
    let start = Utc::now() - CDuration::days(40);
    let step = 40.0 * 86_400.0 / args.reports as f64;
    let secs = load(&store, args.reports, |rng, i| {
        let at = start + CDuration::milliseconds((i as f64 * step * 1000.0) as i64);
        let (mut r, _) = submission(&fx, rng, i, at);
        if i % 3 != 0 {
            let k = CATEGORIES[(rng.next_u64() % CATEGORIES.len() as u64) as usize];
            r.report.category = Some(k.into());
        }
        r
    })
    .await;
    store.analyze().await.expect("analyze");

    let state = AppState::new(store.clone(), Calendar::embedded(), vec![], ServerConfig::unthrottled())
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(lapor_server::serve(listener, lapor_server::router(state)));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client");
    sign_in(&client, &base).await;

    let n = args.page_requests;
    let (floor, _) = bench_page(&client, &format!("{base}/healthz"), n).await;
    let raw_queue = bench_raw_queue(&store, n).await;
    let (queue, bytes) = bench_page(&client, &format!("{base}/staf"), n).await;
    assert!(bytes > 10_000, "the queue page has rows ({bytes} B)");
    let (overdue, _) = bench_page(&client, &format!("{base}/staf?lihat=verifikasi&terlambat=1"), n).await;
    let (category, _) = bench_page(&client, &format!("{base}/staf?lihat=verifikasi&kategori=kesehatan"), n).await;
    let first = get_text(&client, &format!("{base}/staf")).await;
    let (second, _) = bench_page(&client, &format!("{base}{}", next_link(&first)), n).await;

    let ids = oldest(&store, args.actions * 2, 0).await;
    let (web_ids, raw_ids) = ids.split_at(args.actions.min(ids.len() / 2));
    let raw_action = bench_raw_actions(&store, &fx, &raw_ids[..web_ids.len()]).await;
    let action = bench_actions(&client, &base, web_ids).await;
    db.close().await;
    vec![
        format!(
            "{name}: {} pending reports loaded in {secs:.0} s; {n} requests per page, {} actions",
            args.reports,
            web_ids.len()
        ),
        format!(
            "  /healthz (HTTP floor)              p50 {:6.2} ms  p95 {:6.2} ms  p99 {:6.2} ms",
            floor.p50, floor.p95, floor.p99
        ),
        format!(
            "  store: queue page + count (ceiling) p50 {:6.2} ms  p95 {:6.2} ms  p99 {:6.2} ms",
            raw_queue.p50, raw_queue.p95, raw_queue.p99
        ),
        line("/staf (queue, first 50)", &queue, &raw_queue, "store", 50.0),
        line("/staf overdue only", &overdue, &raw_queue, "store", 50.0),
        line("/staf category filter", &category, &raw_queue, "store", 50.0),
        line("/staf second page (cursor)", &second, &raw_queue, "store", 50.0),
        format!(
            "  store: load + decide + append (ceiling) p50 {:6.2} ms  p95 {:6.2} ms  p99 {:6.2} ms",
            raw_action.p50, raw_action.p95, raw_action.p99
        ),
        line("verify & disposition (POST → 303)", &action, &raw_action, "store", 20.0),
    ]
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let lines = vec![format!("lapor-bench-web workspace: {} pending reports", args.reports)];
    lapor_bench_web::print_per_backend(&args.backend, lines, async |name, db| run(name, db, &args).await).await;
}
