//! Citizen web benchmark, per backend:
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
use lapor_domain::calendar::{Calendar, Zone};
use lapor_domain::event::{Actor, Submission};
use lapor_domain::ids::TrackingId;
use lapor_domain::institution::InstitutionKind;
use lapor_domain::lifecycle::{Ctx, apply, submit};
use lapor_domain::report::{Channel, Classification, Status};
use lapor_domain::sla::SlaPolicy;
use lapor_server::{AppState, ServerConfig};
use lapor_store::testing::TestDb;
use lapor_store::{InstitutionQuery, NewReport, ReportFilter, Store};
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

/// Deterministic generator (xorshift64*), so every run searches the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const SUBJECTS: &[&str] = &[
    "Jalan",
    "Lampu jalan",
    "Saluran air",
    "Sampah",
    "Puskesmas",
    "Sekolah",
    "Pelayanan KTP",
    "Bantuan sosial",
    "Trotoar",
    "Jembatan",
    "Pasar",
    "Angkutan umum",
    "Air PDAM",
    "Listrik",
    "Rumah sakit",
    "Kantor kelurahan",
    "Taman kota",
    "Drainase",
    "Terminal",
    "Parkir",
    "Gorong-gorong",
    "Pelayanan SIM",
    "Posyandu",
    "Pemakaman",
];
const PROBLEMS: &[&str] = &[
    "rusak",
    "berlubang",
    "mati",
    "tersumbat",
    "menumpuk",
    "lambat",
    "dipungut biaya",
    "tidak berfungsi",
    "banjir",
    "kotor",
    "macet",
    "ditutup",
    "antre lama",
    "pungutan liar",
    "retak",
    "bocor",
    "terbengkalai",
    "liar",
];
const PLACES: &[&str] = &[
    "Jl. Merdeka",
    "Jl. Sudirman",
    "Jl. Ahmad Yani",
    "Kelurahan Sukajadi",
    "Kecamatan Coblong",
    "Pasar Baru",
    "Desa Cibiru",
    "Jl. Diponegoro",
    "Perumahan Griya Asri",
    "Jl. Gatot Subroto",
    "Kampung Melayu",
    "Jl. Pahlawan",
];
const SENTENCES: &[&str] = &[
    "Mohon segera dilakukan perbaikan oleh dinas terkait.",
    "Warga sudah melapor ke kelurahan tetapi belum ada tindak lanjut.",
    "Kondisi ini membahayakan pengendara dan pejalan kaki.",
    "Petugas meminta pembayaran di luar ketentuan resmi.",
    "Sudah diperbaiki bulan lalu tetapi rusak lagi.",
    "Pelayanan sangat mengecewakan dan tidak ramah.",
    "Kami berharap pemerintah memperbaikinya secepatnya.",
    "Anak-anak sekolah terpaksa memutar jauh setiap pagi.",
    "Genangan air membuat nyamuk berkembang biak.",
    "Antrean mengular sejak subuh tanpa kepastian jadwal.",
    "Pembersihan tidak pernah dilakukan sejak awal tahun.",
    "Penerangan yang padam membuat lingkungan rawan kejahatan.",
];

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

struct Fixture {
    cal: Calendar,
    policy: SlaPolicy,
    governments: Vec<(String, String)>,
}

fn generate(fx: &Fixture, rng: &mut Rng, i: u64) -> NewReport {
    let subject = rng.pick(SUBJECTS);
    let problem = rng.pick(PROBLEMS);
    let place = rng.pick(PLACES);
    let title = format!("{subject} {problem} di {place}");
    let mut body = format!(
        "{subject} di {place} RT {} {problem} sejak {} minggu.",
        rng.next() % 20,
        1 + rng.next() % 9
    );
    for _ in 0..3 {
        body.push(' ');
        body.push_str(rng.pick(SENTENCES));
    }
    // Two years of reports, newest last.
    let at = Utc.with_ymd_and_hms(2024, 11, 1, 0, 0, 0).unwrap() + CDuration::seconds((i * 63) as i64);
    let (region, institution) = &fx.governments[(rng.next() % fx.governments.len() as u64) as usize];
    let tid = TrackingId::from_random(rng.next());
    let sub = Submission {
        classification: Classification::Pengaduan,
        needs_investigation: false,
        category: None,
        title,
        body,
        incident_date: None,
        region_code: Some(region.clone()),
        latitude: None,
        longitude: None,
        anonymous: i.is_multiple_of(3),
        confidential: i.is_multiple_of(10),
        channel: Channel::Web,
        reporter_id: None,
        suggested_institution: None,
        policy: fx.policy.name.clone(),
        zone: Zone::Wib,
    };
    let ctx = Ctx {
        now: at,
        actor: Actor::Reporter { reporter_id: None },
        calendar: &fx.cal,
        policy: &fx.policy,
    };
    let event = submit(tid, sub, &ctx);
    let mut report = apply(None, &event).expect("a fresh submission applies");
    // Most reports have been forwarded (which makes them public); this is
    // a fixture, so the projection is set directly.
    if !i.is_multiple_of(7) {
        report.status = if i.is_multiple_of(2) {
            Status::InProgress
        } else {
            Status::Completed
        };
        report.institution = Some(institution.clone());
    }
    NewReport {
        report,
        event,
        pin_hash: format!("{i:064x}"),
        new_reporter: None,
        outbox: vec![],
        idempotency_key: None,
        attachments: vec![],
    }
}

async fn load(store: &Arc<dyn Store>, fx: Arc<Fixture>, n: u64) -> f64 {
    let started = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut i = 0;
    while i < n {
        // 2,048 submissions in flight: the intake batches them.
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..2048.min(n - i) {
            let mut r = generate(&fx, &mut rng, i);
            let retry_seed = rng.next();
            let s = store.clone();
            set.spawn(async move {
                // Tracking IDs are random (35 bits): at a million reports a few
                // collide, and like the real intake we draw another.
                for attempt in 0..4u64 {
                    match s.create_report(&r).await {
                        Err(e) if e.code == lapor_domain::ErrorCode::Conflict => {
                            let id = TrackingId::from_random(retry_seed.wrapping_add(attempt));
                            r.report.tracking_id = id.clone();
                            r.event.tracking_id = id;
                        }
                        other => return other,
                    }
                }
                s.create_report(&r).await
            });
            i += 1;
        }
        while let Some(r) = set.join_next().await {
            r.expect("task").expect("insert");
        }
        if i % 100_000 < 2048 {
            eprintln!(
                "  {i} reports loaded ({:.0}/s)",
                i as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    started.elapsed().as_secs_f64()
}

fn pct(xs: &mut [f64], p: f64) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let idx = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs.get(idx).copied().unwrap_or(f64::NAN)
}

struct Lat {
    p50: f64,
    p95: f64,
    p99: f64,
}

fn summary(mut xs: Vec<f64>) -> Lat {
    Lat {
        p50: pct(&mut xs, 0.50),
        p95: pct(&mut xs, 0.95),
        p99: pct(&mut xs, 0.99),
    }
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

/// Times `n` GETs of a path on a keep-alive client.
async fn bench_page(client: &reqwest::Client, url: &str, n: usize) -> (Lat, usize) {
    let mut xs = Vec::with_capacity(n);
    let mut size = 0;
    for _ in 0..20 {
        client.get(url).send().await.expect("get").bytes().await.expect("body");
    }
    for _ in 0..n {
        let t = Instant::now();
        let resp = client.get(url).send().await.expect("get");
        assert!(resp.status().is_success(), "{url}: {}", resp.status());
        let body = resp.bytes().await.expect("body");
        xs.push(t.elapsed().as_secs_f64() * 1000.0);
        size = body.len();
    }
    (summary(xs), size)
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

fn attr(html: &str, before: &str) -> String {
    let i = html.find(before).expect("attribute in page") + before.len();
    html[i..].split('"').next().unwrap_or("").to_string()
}

async fn bench_pages(store: Arc<dyn Store>, requests: usize) -> Vec<String> {
    let state = AppState::new(store, Calendar::embedded(), vec![], ServerConfig::default())
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
    let login = client
        .get(format!("{base}/lacak"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    let csrf = attr(&login, "name=\"csrf\" value=\"");
    let r = client
        .post(format!("{base}/lacak"))
        .form(&[("csrf", csrf.as_str()), ("id", id), ("pin", pin)])
        .send()
        .await
        .expect("track");
    assert!(r.status().is_success(), "track login: {}", r.status());

    let (floor, _) = bench_page(&client, &format!("{base}/healthz"), requests).await;
    let (form, form_bytes) = bench_page(&client, &format!("{base}/lapor"), requests).await;
    let (track, _) = bench_page(&client, &format!("{base}/lacak/{id}"), requests).await;
    let form_html = client
        .get(format!("{base}/lapor"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
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
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    lapor_cli::demo::seed(store.as_ref(), &data, false)
        .await
        .expect("demo seed");
    let governments: Vec<(String, String)> = store
        .institutions(&InstitutionQuery {
            limit: 5000,
            ..Default::default()
        })
        .await
        .expect("institutions")
        .into_iter()
        .filter(|i| matches!(i.kind, InstitutionKind::City | InstitutionKind::Regency))
        .filter_map(|i| Some((i.region_code?, i.code)))
        .collect();
    let fx = Arc::new(Fixture {
        cal: Calendar::embedded(),
        policy: SlaPolicy::default(),
        governments,
    });
    eprintln!("[{name}] loading {} reports…", args.reports);
    let secs = load(&store, fx, args.reports).await;
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
    let mut lines = vec![format!(
        "lapor-bench-web: {} reports, {} timed queries, {} requests per page",
        args.reports, args.queries, args.page_requests
    )];
    if matches!(args.backend.as_str(), "sqlite" | "both") {
        let db = TestDb::sqlite().await;
        lines.extend(run("SQLite", db, &args).await);
    }
    if matches!(args.backend.as_str(), "postgres" | "both") {
        match TestDb::postgres().await {
            Some(db) => lines.extend(run("PostgreSQL", db, &args).await),
            None => lines.push("PostgreSQL: skipped (set LAPOR_TEST_PG_URL)".into()),
        }
    }
    println!("{}", lines.join("\n"));
}
