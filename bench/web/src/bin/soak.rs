//! Soak: a mixed workload at a fixed rate against a real `lapor serve
//! --demo` process, for a long time (issue 10: 30 minutes per backend, error
//! rate 0, a stable p99, resident memory growth under 10%).
//!
//! Each second, `--rate` requests are started on schedule (open loop:
//! latency counts from the planned start, so queueing shows), in this mix:
//! - 35% citizens filing a report with an e-mail for the receipt;
//! - 25% citizens reading their report with its PIN;
//! - 20% the public list page (`/laporan`);
//! - 10% the national admin's API queue (`/api/v1/reports`);
//! - 10% the admin dispositioning a filed report.
//!
//! Every minute it prints the minute's requests, errors, p50/p99 and the
//! server's resident memory; at the end, the error rate, the p99 spread over
//! the minutes, the memory growth from the end of the warm-up (`--warmup`
//! minutes, default 5) to the end, and the same p99 against `/healthz` timed at the
//! start (the HTTP floor of the same process).
//!
//! It starts on a database holding `--preload` reports of generated
//! history (default 100,000), as a running service would.
//!
//!   cargo build --release -p lapor-cli --bin lapor
//!   cargo run --release -p lapor-bench-web --bin soak -- --minutes 30 --rate 100 --backend sqlite
//!
//! PostgreSQL needs LAPOR_TEST_PG_URL; the database is made and dropped.

use clap::Parser;
use lapor_store::testing::TestUrl;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 30)]
    minutes: u64,
    /// Requests started per second.
    #[arg(long, default_value_t = 60)]
    rate: u64,
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// The `lapor` binary to run.
    #[arg(long, default_value = "target/release/lapor")]
    lapor: String,
    /// Reports of history generated (`lapor bench-data`) before the soak
    /// starts: a national service never runs on an empty database, and on
    /// one the caches and indexes are still growing from nothing.
    #[arg(long, default_value_t = 100_000)]
    preload: u64,
    /// Minutes of warm-up (page caches and pools filling, allocator arenas
    /// settling) before the memory baseline is taken.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Submit,
    Track,
    List,
    Queue,
    Disposition,
}

const KINDS: [(Kind, &str); 5] = [
    (Kind::Submit, "submit"),
    (Kind::Track, "track"),
    (Kind::List, "list"),
    (Kind::Queue, "queue"),
    (Kind::Disposition, "dispose"),
];

fn kind_of(i: u64) -> Kind {
    match i % 20 {
        0..7 => Kind::Submit,
        7..12 => Kind::Track,
        12..16 => Kind::List,
        16..18 => Kind::Queue,
        _ => Kind::Disposition,
    }
}

#[derive(Default)]
struct Minute {
    latencies: Vec<f64>,
    /// The same latencies by kind of request, in `KINDS` order: which part
    /// of the mix moves when the p99 moves.
    by_kind: [Vec<f64>; 5],
    errors: u64,
}

struct Shared {
    base: String,
    token: String,
    /// Filed reports: (Tracking ID, PIN), and how many were dispositioned.
    filed: Mutex<(Vec<(String, String)>, usize)>,
    minutes: Mutex<Vec<Minute>>,
    http: reqwest::Client,
}

async fn one(s: Arc<Shared>, i: u64, kind: Kind) -> bool {
    let base = &s.base;
    let r = match kind {
        Kind::Submit => {
            let r = s
                .http
                .post(format!("{base}/api/v1/reports"))
                .json(&json!({
                    "classification": "pengaduan",
                    "title": format!("Drainase tersumbat nomor {i}"),
                    "body": "Saluran drainase di depan pasar tersumbat sampah sehingga jalan tergenang setiap hujan.",
                    "region_code": "32.73",
                    "reporter": { "name": "Warga", "email": format!("warga{i}@contoh.id") }
                }))
                .send()
                .await;
            match r {
                Ok(r) if r.status().as_u16() == 201 => {
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    if let (Some(id), Some(pin)) = (v["tracking_id"].as_str(), v["pin"].as_str()) {
                        s.filed.lock().await.0.push((id.to_string(), pin.to_string()));
                        return true;
                    }
                    return false;
                }
                _ => return false,
            }
        }
        Kind::Track => {
            let pick = {
                let f = s.filed.lock().await;
                (!f.0.is_empty()).then(|| f.0[(i as usize * 7919) % f.0.len()].clone())
            };
            let Some((id, pin)) = pick else { return true };
            s.http
                .get(format!("{base}/api/v1/reports/{id}"))
                .header("x-lapor-pin", pin)
                .send()
                .await
        }
        Kind::List => s.http.get(format!("{base}/laporan")).send().await,
        Kind::Queue => {
            s.http
                .get(format!("{base}/api/v1/reports?limit=20"))
                .bearer_auth(&s.token)
                .send()
                .await
        }
        Kind::Disposition => {
            let pick = {
                let mut f = s.filed.lock().await;
                let next = f.0.get(f.1).map(|(id, _)| id.clone());
                if next.is_some() {
                    f.1 += 1;
                }
                next
            };
            let Some(id) = pick else { return true };
            s.http
                .post(format!("{base}/api/v1/reports/{id}/disposition"))
                .bearer_auth(&s.token)
                .json(&json!({ "institution": "pemkot-32.73", "version": 1 }))
                .send()
                .await
        }
    };
    match r {
        Ok(r) => {
            let ok = r.status().is_success();
            let _ = r.bytes().await;
            ok
        }
        Err(_) => false,
    }
}

/// Resident memory in MiB: (all, anonymous). The anonymous part is the
/// process's own heap; the rest is mapped files (the binary, SQLite's
/// memory-mapped database), which the kernel may drop and re-read.
fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next().and_then(|kb| kb.parse::<f64>().ok()))
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("RssAnon:"))
}

fn p(xs: &mut [f64], q: f64) -> f64 {
    lapor_bench_web::pct(xs, q)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let db = match args.backend.as_str() {
        "postgres" => TestUrl::postgres().await.expect("set LAPOR_TEST_PG_URL for postgres"),
        _ => TestUrl::sqlite(),
    };
    if args.preload > 0 {
        let started = Instant::now();
        for step in [
            vec!["demo".to_string()],
            vec!["bench-data".into(), "--reports".into(), args.preload.to_string()],
        ] {
            let ok = Command::new(&args.lapor)
                .args(&step)
                .env_remove("LAPOR_CONFIG")
                .env("LAPOR_DATABASE_URL", &db.url)
                .env("LAPOR_LOG", "warn")
                .stdout(Stdio::null())
                .status()
                .expect("run lapor")
                .success();
            assert!(ok, "lapor {step:?} failed");
        }
        println!(
            "preloaded {} reports of history in {:.0} s",
            args.preload,
            started.elapsed().as_secs_f64()
        );
    }
    let mut child = Command::new(&args.lapor)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .env_remove("LAPOR_CONFIG")
        .env("LAPOR_DATABASE_URL", &db.url)
        .env("LAPOR_LOG", "warn")
        .env("LAPOR_LIMIT_SIGN_IN_PER_MINUTE", "0")
        .env("LAPOR_LIMIT_SUBMIT_PER_MINUTE", "0")
        .env("LAPOR_LIMIT_SUBMIT_PER_ACCOUNT_PER_HOUR", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run lapor (build it first: cargo build --release -p lapor-cli --bin lapor)");
    let pid = child.id();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut base = String::new();
    for line in lines.by_ref() {
        let line = line.expect("read");
        if let Some(rest) = line.strip_prefix("Lapor is running at ") {
            base = rest
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches('/')
                .to_string();
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    assert!(!base.is_empty(), "lapor serve did not start");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let secret = lapor_domain::totp::base32_decode(lapor_cli::demo::DEMO_TOTP_SECRET).expect("key");
    let otp = lapor_domain::totp::code_at(&secret, chrono::Utc::now().timestamp());
    let v: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": "nasional@lapor.demo", "password": lapor_cli::demo::DEMO_PASSWORD, "otp": otp}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    let token = v["token"].as_str().expect("token").to_string();

    // The HTTP floor of the same process.
    let mut floor = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        let _ = http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("healthz")
            .bytes()
            .await;
        floor.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let floor_p99 = p(&mut floor, 0.99);

    let shared = Arc::new(Shared {
        base,
        token,
        filed: Mutex::new((Vec::new(), 0)),
        minutes: Mutex::new((0..args.minutes).map(|_| Minute::default()).collect()),
        http,
    });
    println!(
        "soak: {} backend, {} requests/s for {} min; lapor pid {pid}, resident {:.1} MiB at start; /healthz p99 {floor_p99:.2} ms",
        args.backend,
        args.rate,
        args.minutes,
        rss_mib(pid).0
    );
    let kinds: String = KINDS.iter().map(|(_, name)| format!(" {name:>8}")).collect();
    println!("minute  requests  errors   p50 ms   p99 ms  RSS MiB  anon MiB  | p99 ms by kind:{kinds}");
    let start = tokio::time::Instant::now();
    let total = args.rate * args.minutes * 60;
    let gap = Duration::from_secs_f64(1.0 / args.rate as f64);
    let mut rss = Vec::new();
    let mut printed = 0;
    for i in 0..total {
        let planned = start + gap * i as u32;
        tokio::time::sleep_until(planned).await;
        let minute = (i / (args.rate * 60)) as usize;
        if minute > printed {
            rss.push(rss_mib(pid));
            report(&shared, printed, rss[printed]).await;
            printed = minute;
        }
        let s = shared.clone();
        tokio::spawn(async move {
            let ok = one(s.clone(), i, kind_of(i)).await;
            let ms = planned.elapsed().as_secs_f64() * 1000.0;
            let mut m = s.minutes.lock().await;
            let slot = &mut m[minute];
            slot.latencies.push(ms);
            let k = KINDS.iter().position(|(k, _)| *k == kind_of(i)).unwrap_or(0);
            slot.by_kind[k].push(ms);
            if !ok {
                slot.errors += 1;
            }
        });
    }
    // Let the last requests finish.
    tokio::time::sleep(Duration::from_secs(10)).await;
    rss.push(rss_mib(pid));
    report(&shared, printed, rss[printed]).await;

    let m = shared.minutes.lock().await;
    let requests: usize = m.iter().map(|x| x.latencies.len()).sum();
    let errors: u64 = m.iter().map(|x| x.errors).sum();
    let mut p99s: Vec<f64> = m.iter().map(|x| p(&mut x.latencies.clone(), 0.99)).collect();
    let (lo, hi) = (p(&mut p99s, 0.0), p(&mut p99s, 1.0));
    let warm = args.warmup.clamp(1, rss.len().max(1));
    let after_warmup = rss.get(warm - 1).copied().unwrap_or((f64::NAN, f64::NAN));
    let end = rss.last().copied().unwrap_or((f64::NAN, f64::NAN));
    let growth = (end.0 - after_warmup.0) / after_warmup.0 * 100.0;
    let anon_growth = (end.1 - after_warmup.1) / after_warmup.1 * 100.0;
    let filed = shared.filed.lock().await;
    println!(
        "soak {}: {requests} requests, {errors} errors ({:.3}%); {} reports filed, {} dispositioned; \
         p99 per minute {lo:.1}–{hi:.1} ms ({:.1}–{:.1}x the /healthz p99); resident {:.1} MiB after minute {warm} (warm-up), \
         {:.1} MiB at the end: {growth:+.1}% (target < 10%); anonymous {:.1} → {:.1} MiB: {anon_growth:+.1}%",
        args.backend,
        errors as f64 / requests.max(1) as f64 * 100.0,
        filed.0.len(),
        filed.1,
        lo / floor_p99,
        hi / floor_p99,
        after_warmup.0,
        end.0,
        after_warmup.1,
        end.1,
    );
    let _ = child.kill();
    let _ = child.wait();
    db.close().await;
}

async fn report(s: &Shared, minute: usize, rss: (f64, f64)) {
    let mut m = s.minutes.lock().await;
    let x = &mut m[minute];
    let n = x.latencies.len();
    let mut l = x.latencies.clone();
    let kinds: String = x
        .by_kind
        .iter()
        .map(|k| format!(" {:>8.1}", p(&mut k.clone(), 0.99)))
        .collect();
    println!(
        "{:>6}  {n:>8}  {:>6}  {:>7.1}  {:>7.1}  {:>7.1}  {:>8.1}  |                {kinds}",
        minute + 1,
        x.errors,
        p(&mut l, 0.5),
        p(&mut l, 0.99),
        rss.0,
        rss.1,
    );
}
