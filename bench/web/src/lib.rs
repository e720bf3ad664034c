//! What the benchmarks share: a deterministic generator of realistic
//! Indonesian complaints, bulk loading through the store, percentiles, and
//! timing pages over loopback HTTP.

use chrono::{DateTime, Utc};
use lapor_domain::calendar::{Calendar, Zone};
use lapor_domain::event::{Actor, Submission};
use lapor_domain::ids::TrackingId;
use lapor_domain::institution::InstitutionKind;
use lapor_domain::lifecycle::{Ctx, apply, submit};
use lapor_domain::report::{Channel, Classification};
use lapor_domain::sla::SlaPolicy;
use lapor_domain::totp;
use lapor_store::{InstitutionQuery, NewReport, Store};
use std::sync::Arc;
use std::time::Instant;

/// Deterministic generator (xorshift64*), so every run searches the same data.
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next_u64() % xs.len() as u64) as usize]
    }
}

pub const SUBJECTS: &[&str] = &[
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
pub const PROBLEMS: &[&str] = &[
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
pub const PLACES: &[&str] = &[
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
pub const SENTENCES: &[&str] = &[
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

/// What generated reports need: the calendar, the policy and the regional
/// governments (region code, institution code) of the demo seed.
pub struct Fixture {
    pub cal: Calendar,
    pub policy: SlaPolicy,
    pub governments: Vec<(String, String)>,
}

impl Fixture {
    /// Seeds the demo data (regions, institutions, users) into the store and
    /// lists its city and regency governments.
    pub async fn seed(store: &Arc<dyn Store>) -> Fixture {
        // As `lapor` does on opening a database: the empty search index is
        // marked current, so a later `lapor serve` on a kept history does not
        // index its millions of generated reports again.
        store.ensure_search_index(&|_, _| {}).await.expect("search index");
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        lapor_cli::demo::seed(store.as_ref(), &data, false)
            .await
            .expect("demo seed");
        let governments = store
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
        Fixture {
            cal: Calendar::embedded(),
            policy: SlaPolicy::default(),
            governments,
        }
    }
}

/// A fresh web submission with realistic wording, in a random regional
/// government's area, submitted at `at`; every third one anonymous, every
/// tenth confidential. Returns the government's institution code too.
pub fn submission(fx: &Fixture, rng: &mut Rng, i: u64, at: DateTime<Utc>) -> (NewReport, String) {
    let subject = rng.pick(SUBJECTS);
    let problem = rng.pick(PROBLEMS);
    let place = rng.pick(PLACES);
    let title = format!("{subject} {problem} di {place}");
    let mut body = format!(
        "{subject} di {place} RT {} {problem} sejak {} minggu.",
        rng.next_u64() % 20,
        1 + rng.next_u64() % 9
    );
    for _ in 0..3 {
        body.push(' ');
        body.push_str(rng.pick(SENTENCES));
    }
    let (region, institution) = &fx.governments[(rng.next_u64() % fx.governments.len() as u64) as usize];
    let tid = TrackingId::from_random(rng.next_u64());
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
    let report = apply(None, &event).expect("a fresh submission applies");
    let wake_at = lapor_domain::sla::timers(&report, &fx.policy, &fx.cal).next();
    (
        NewReport {
            report,
            event,
            pin_hash: format!("{i:064x}"),
            new_reporter: None,
            outbox: vec![],
            idempotency_key: None,
            attachments: vec![],
            wake_at,
        },
        institution.clone(),
    )
}

/// Inserts `n` reports made by `make` through the store, 2,048 at a time;
/// returns the seconds it took.
pub async fn load(store: &Arc<dyn Store>, n: u64, mut make: impl FnMut(&mut Rng, u64) -> NewReport) -> f64 {
    let started = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut i = 0;
    while i < n {
        // 2,048 submissions in flight: the intake batches them.
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..2048.min(n - i) {
            let mut r = make(&mut rng, i);
            let retry_seed = rng.next_u64();
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

pub fn pct(xs: &mut [f64], p: f64) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let idx = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs.get(idx).copied().unwrap_or(f64::NAN)
}

pub struct Lat {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

pub fn summary(mut xs: Vec<f64>) -> Lat {
    Lat {
        p50: pct(&mut xs, 0.50),
        p95: pct(&mut xs, 0.95),
        p99: pct(&mut xs, 0.99),
    }
}

/// Times `n` GETs of a path on a keep-alive client.
pub async fn bench_page(client: &reqwest::Client, url: &str, n: usize) -> (Lat, usize) {
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

/// The value after `before` in a page, up to the next double quote.
pub fn attr(html: &str, before: &str) -> String {
    let i = html.find(before).expect("attribute in page") + before.len();
    html[i..].split('"').next().unwrap_or("").to_string()
}

/// The body of a GET, which must answer.
pub async fn get_text(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.expect("get").text().await.expect("text")
}

/// Posts a form and returns the answer's status (redirects are not
/// followed when the client says so).
pub async fn post_form(client: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> reqwest::StatusCode {
    let r = client.post(url).form(form).send().await.expect("post");
    let status = r.status();
    r.bytes().await.expect("body");
    status
}

/// The databases to run on (`sqlite`, `postgres` or `both`), each a fresh
/// one, opened when its turn comes; PostgreSQL needs LAPOR_TEST_PG_URL.
pub async fn next_backend(which: &str, done: usize) -> Option<(&'static str, Option<lapor_store::testing::TestDb>)> {
    let all = [("SQLite", "sqlite"), ("PostgreSQL", "postgres")];
    let wanted: Vec<_> = all.iter().filter(|(_, k)| which == "both" || which == *k).collect();
    let (name, kind) = wanted.get(done)?;
    Some(match *kind {
        "sqlite" => (name, Some(lapor_store::testing::TestDb::sqlite().await)),
        _ => (name, lapor_store::testing::TestDb::postgres().await),
    })
}

/// Runs a benchmark on each wanted backend and prints its lines after the
/// header; a backend that cannot be reached says so instead of failing.
pub async fn print_per_backend(
    which: &str,
    mut lines: Vec<String>,
    mut run: impl AsyncFnMut(&'static str, lapor_store::testing::TestDb) -> Vec<String>,
) {
    let mut done = 0;
    while let Some((name, db)) = next_backend(which, done).await {
        done += 1;
        match db {
            Some(db) => lines.extend(run(name, db).await),
            None => lines.push(format!("{name}: skipped (set LAPOR_TEST_PG_URL)")),
        }
    }
    println!("{}", lines.join("\n"));
}

/// Signs the demo national admin in through the web forms (password, then
/// the TOTP code of the published demo key); the client keeps the cookie.
pub async fn sign_in(client: &reqwest::Client, base: &str) {
    let form = get_text(client, &format!("{base}/staf/masuk")).await;
    let password = [
        ("csrf", attr(&form, "name=\"csrf\" value=\"")),
        ("kembali", "/staf".into()),
        ("login", "nasional@lapor.demo".into()),
        ("password", lapor_cli::demo::DEMO_PASSWORD.into()),
    ];
    let status = post_form(client, &format!("{base}/staf/masuk"), &borrowed(&password)).await;
    assert_eq!(status, 303, "password step");
    let form = get_text(client, &format!("{base}/staf/verifikasi")).await;
    let key = totp::base32_decode(lapor_cli::demo::DEMO_TOTP_SECRET).expect("demo key");
    let code = [
        ("csrf", attr(&form, "name=\"csrf\" value=\"")),
        ("kembali", "/staf".into()),
        ("kode", totp::code_at(&key, Utc::now().timestamp())),
    ];
    let status = post_form(client, &format!("{base}/staf/verifikasi"), &borrowed(&code)).await;
    assert_eq!(status, 303, "second factor");
}

pub fn borrowed<'a>(form: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// One timed line: percentiles, the ratio to a baseline, and the target.
pub fn line(name: &str, l: &Lat, base: &Lat, base_name: &str, target_ms: f64) -> String {
    format!(
        "  {name:<34} p50 {:6.2} ms  p95 {:6.2} ms  p99 {:6.2} ms   p95 / {base_name} = {:.1}x   target p95 < {target_ms} ms: {}",
        l.p50,
        l.p95,
        l.p99,
        l.p95 / base.p95,
        if l.p95 < target_ms { "met" } else { "MISSED" }
    )
}
