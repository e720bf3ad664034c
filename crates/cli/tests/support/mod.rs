//! What the tests of the `lapor` binary share: running it, a `serve --demo`
//! child, and the few API calls they make against it.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `lapor` on the database at `db`, quiet, with the repository's data and
/// no scheduler passes during a test.
pub fn lapor(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lapor"));
    c.env_remove("LAPOR_CONFIG")
        .env("LAPOR_LOG", "warn")
        .env("LAPOR_DATA_DIR", repo().join("data"))
        .env("LAPOR_DATABASE_URL", db)
        .env("LAPOR_SCHEDULER_INTERVAL_SECS", "3600");
    c
}

pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// A running `lapor serve --demo`, SIGKILLed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// The metrics listener's `/metrics` URL, when one was configured.
    pub metrics: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(db: &str, config: Option<&Path>) -> Server {
    serve_with(lapor(db), config)
}

/// `serve --demo` from a prepared command (extra environment, say).
pub fn serve_with(cmd: Command, config: Option<&Path>) -> Server {
    serve_at(cmd, config, "127.0.0.1:0", true)
}

/// `serve` on a given address, with or without seeding the demo data.
pub fn serve_at(mut cmd: Command, config: Option<&Path>, bind: &str, demo: bool) -> Server {
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.arg("serve");
    if demo {
        cmd.arg("--demo");
    }
    let mut child = cmd
        .args(["--bind", bind])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut metrics) = (None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("Metrics at ") {
            metrics = Some(url.trim().to_string());
        }
        if let Some(rest) = line.strip_prefix("Lapor is running at ") {
            base = rest
                .split_whitespace()
                .next()
                .map(|u| u.trim_end_matches('/').to_string());
            break;
        }
    }
    // Keep reading, so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        base: base.expect("the server printed its address"),
        metrics,
    }
}

/// A bearer token for a demo user (password and authenticator code).
pub async fn login(http: &reqwest::Client, base: &str, who: &str) -> String {
    let secret = lapor_domain::totp::base32_decode(lapor_cli::demo::DEMO_TOTP_SECRET).unwrap();
    let otp = lapor_domain::totp::code_at(&secret, chrono::Utc::now().timestamp());
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": who, "password": lapor_cli::demo::DEMO_PASSWORD, "otp": otp}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(status.is_success(), "login {who}: {v}");
    v["token"].as_str().unwrap().to_string()
}

pub async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = http.request(method, url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let s = resp.status().as_u16();
    (s, resp.json().await.unwrap_or(Value::Null))
}

/// Polls `check` until it gives a value, for at most a minute.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub fn report_body(title: &str) -> Value {
    json!({
        "classification": "pengaduan",
        "title": title,
        "body": "Lampu penerangan jalan di depan sekolah mati sejak dua minggu, rawan kecelakaan.",
        "region_code": "32.73",
    })
}

/// Files a report anonymously; its Tracking ID.
pub async fn submit(http: &reqwest::Client, base: &str, title: &str) -> String {
    let (s, v) = call(
        http,
        reqwest::Method::POST,
        format!("{base}/api/v1/reports"),
        None,
        Some(report_body(title)),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["tracking_id"].as_str().unwrap().to_string()
}

/// xorshift64: kill points vary per run; the seed is printed so a failing
/// run can be repeated with `LAPOR_CRASH_SEED`.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `LAPOR_CRASH_SEED`, else one from the clock.
pub fn crash_seed() -> u64 {
    std::env::var("LAPOR_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            t.as_nanos() as u64 % 1_000_000
        })
        .max(1)
}
