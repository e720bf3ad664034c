//! `lapor`: the one binary. `serve` runs the HTTP server; `migrate` and
//! `import` manage the database.

use lapor_cli::{background, backup, bench_data, config, demo, import, integration, outbox, rollups};

use clap::{Parser, Subcommand};
use config::Config;
use lapor_domain::calendar::Calendar;
use lapor_server::{AppState, ServerConfig};
use lapor_store::{Store, StoreOptions};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "lapor",
    version,
    about = "Lapor: SP4N-LAPOR! public-service complaint system"
)]
struct Cli {
    /// TOML configuration file (also LAPOR_CONFIG).
    #[arg(long, env = "LAPOR_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the HTTP server (migrates first).
    Serve {
        /// Seed real regions, demo institutions and one user per role.
        #[arg(long)]
        demo: bool,
        /// Address to listen on, e.g. 127.0.0.1:8080 (overrides the config).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply database migrations.
    Migrate,
    /// Write a consistent copy of the database to FILE while Lapor keeps
    /// running (SQLite: an online snapshot; PostgreSQL: pg_dump), and check it.
    Backup { file: PathBuf },
    /// Replace the database with a backup made by `lapor backup`. Stop
    /// `lapor serve` and `lapor worker` first; it refuses while they run.
    Restore { file: PathBuf },
    /// Seed the demo data without serving.
    Demo,
    /// Print the current authenticator code for a base32 key (default: the
    /// demo admins' published key), for trying the demo without a phone.
    Totp { key: Option<String> },
    /// Load reference data.
    Import {
        #[command(subcommand)]
        what: ImportCmd,
    },
    /// Run the delivery workers and the deadline scheduler without the HTTP
    /// server (several may run at once, on one or many machines).
    Worker {
        /// Deliver only; leave the deadline scheduler to other processes.
        #[arg(long)]
        no_scheduler: bool,
    },
    /// Inspect the outbox: queue depths, dead letters, replay.
    Outbox {
        #[command(subcommand)]
        what: outbox::OutboxCmd,
    },
    /// Connected institutions and their API clients and keys.
    Integration {
        #[command(subcommand)]
        what: integration::IntegrationCmd,
    },
    /// Generate a realistic national history for benchmarks and demos
    /// (needs regions and institutions: run `lapor demo` first).
    BenchData {
        /// How many reports.
        #[arg(long, default_value_t = 100_000)]
        reports: u64,
        /// Seed of the generator (same seed, same history shape).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Reports per transaction.
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// Rollup rows summed in memory before they are written (about
        /// 400 bytes each).
        #[arg(long, default_value_t = 1_000_000)]
        rollup_keys: usize,
    },
    /// The dashboard counters (derived from the events).
    Rollups {
        #[command(subcommand)]
        what: rollups::RollupsCmd,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// All four levels of Kemendagri regions from a folder of CSVs (default: data/regions).
    Regions { dir: Option<PathBuf> },
    /// Institutions from a CSV (code,name,kind,parent_code,region_code,timezone).
    Institutions { file: PathBuf },
    /// Replace the holiday calendar (date,category,name_id,name_en) without
    /// a rebuild; running servers and workers pick it up within a minute.
    /// A file with any bad line is refused whole.
    Holidays {
        file: PathBuf,
        /// Years whose joint leave is not final yet, e.g. 2027,2028
        /// (default: years with estimated dates, "(perkiraan)").
        #[arg(long, value_delimiter = ',')]
        provisional: Option<Vec<i32>>,
    },
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("lapor: {msg}");
    std::process::exit(1)
}

async fn open_store(cfg: &Config, progress: bool) -> Arc<dyn Store> {
    if let Some(path) = cfg.database_url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            fail(format!("{}: {e}", dir.display()));
        }
    }
    let opts = StoreOptions {
        max_connections: cfg.db_max_connections,
        durable: cfg.durable,
    };
    let store = lapor_store::connect(&cfg.database_url, &opts)
        .await
        .unwrap_or_else(|e| fail(format!("database: {e}")));
    match store.migrate().await {
        Ok(v) if !v.is_empty() => tracing::info!(versions = ?v, "applied migrations"),
        Ok(_) => {}
        Err(e) => fail(format!("migrate: {e}")),
    }
    // Search postings are derived data: rebuilt when the stemmer changed.
    let bar = progress.then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template("search index {bar:40} {pos}/{len} reports ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let report = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    match store.ensure_search_index(&report).await {
        Ok(n) if n > 0 => tracing::info!(reports = n, "search index rebuilt"),
        Ok(_) => {}
        Err(e) => fail(format!("search index: {e}")),
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    store
}

fn load_calendar(cfg: &Config) -> Calendar {
    let cal = match &cfg.holidays_file {
        Some(p) => {
            let text = std::fs::read_to_string(p).unwrap_or_else(|e| fail(format!("{}: {e}", p.display())));
            Calendar::from_csv(&text).unwrap_or_else(|errs| {
                fail(
                    errs.iter()
                        .map(|e| format!("{}: {e}", p.display()))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            })
        }
        None => Calendar::embedded(),
    };
    cal.with_joint_leave_as_working(cfg.joint_leave_is_working)
}

/// Where the demo's local mailbox keeps messages: beside the database.
fn demo_mail_dir(cfg: &Config) -> PathBuf {
    let db = cfg
        .database_url
        .strip_prefix("sqlite://")
        .unwrap_or("lapor-data/lapor.db");
    let db = db.split('?').next().unwrap_or(db);
    std::path::Path::new(db)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("lapor-data"))
        .join("mail")
}

/// `/metrics` on a listener of its own, when configured; its address.
async fn metrics_listener(cfg: &Config, state: &AppState) -> Option<std::net::SocketAddr> {
    if cfg.metrics_bind.is_empty() {
        return None;
    }
    let listener = tokio::net::TcpListener::bind(&cfg.metrics_bind)
        .await
        .unwrap_or_else(|e| fail(format!("bind metrics {}: {e}", cfg.metrics_bind)));
    let addr = listener.local_addr().unwrap_or_else(|e| fail(e));
    let app = lapor_server::metrics::router(state.clone());
    tokio::spawn(async move {
        if let Err(e) = lapor_server::serve(listener, app).await {
            tracing::error!(error = %e, "metrics listener stopped");
        }
    });
    Some(addr)
}

/// The application state shared by the server and the workers.
async fn build_state(
    cfg: &Config,
    store: Arc<dyn Store>,
    demo: bool,
    bind: Option<&str>,
) -> (AppState, Option<lapor_mailsink::MailSink>) {
    let public_url =
        std::env::var("LAPOR_PUBLIC_URL").unwrap_or_else(|_| format!("http://{}", bind.unwrap_or(&cfg.bind)));
    let server_cfg = ServerConfig {
        public_url,
        max_body_bytes: cfg.max_body_bytes,
        secure_cookies: cfg.secure_cookies,
        tile_url: Some(cfg.tile_url.clone()).filter(|t| !t.is_empty()),
        tile_attribution: Some(cfg.tile_attribution.clone()).filter(|t| !t.is_empty()),
        metrics_token: Some(cfg.metrics_token.clone()).filter(|t| !t.is_empty()),
        channels: cfg.channels.clone(),
        push_contact: std::env::var("LAPOR_PUSH_CONTACT").ok().filter(|c| !c.is_empty()),
        push_allow_loopback: std::env::var("LAPOR_PUSH_ALLOW_LOOPBACK").is_ok_and(|v| v == "1"),
        limits: cfg.limits.rate_limits(),
        ..Default::default()
    };
    let mut state = AppState::new(store, load_calendar(cfg), cfg.policies.clone(), server_cfg)
        .await
        .unwrap_or_else(|e| fail(e));
    if let Err(e) = state.calendar.refresh(state.store.as_ref()).await {
        fail(format!("holiday calendar: {e}"));
    }
    let (channels, sink) = background::channels(cfg, demo, &demo_mail_dir(cfg))
        .await
        .unwrap_or_else(|e| fail(e));
    if channels.email().is_none() {
        tracing::warn!("no smtp_url configured: e-mail stays queued in the outbox");
    }
    state.channels = Arc::new(channels);
    // Say at startup which chat and SMS channels are on, and which are off.
    for line in cfg.channels.summary() {
        tracing::info!("channel {line}");
    }
    (state, sink)
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let cfg = Config::load(cli.config.as_deref()).unwrap_or_else(|e| fail(e));
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&cfg.log).unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let progress = std::io::stderr().is_terminal();
    match cli.cmd {
        Cmd::Backup { file } => {
            let done = backup::backup(&cfg.database_url, &file, progress).await;
            println!("{}", done.unwrap_or_else(|e| fail(e)));
        }
        Cmd::Restore { file } => {
            let done = backup::restore(&cfg.database_url, &file, progress).await;
            println!("{}", done.unwrap_or_else(|e| fail(e)));
        }
        Cmd::Migrate => {
            open_store(&cfg, progress).await;
            println!("migrations up to date");
        }
        Cmd::Demo => {
            let store = open_store(&cfg, progress).await;
            demo::seed(store.as_ref(), &cfg.data_dir, progress)
                .await
                .unwrap_or_else(|e| fail(e));
            println!("demo data loaded");
        }
        Cmd::Import {
            what: ImportCmd::Regions { dir },
        } => {
            let store = open_store(&cfg, progress).await;
            let dir = dir.unwrap_or_else(|| cfg.data_dir.join("regions"));
            let counts = import::import_regions(store.as_ref(), &dir, true)
                .await
                .unwrap_or_else(|e| fail(e));
            println!(
                "regions: {} provinces, {} regencies/cities, {} districts, {} villages",
                counts[0], counts[1], counts[2], counts[3]
            );
        }
        Cmd::Import {
            what: ImportCmd::Holidays { file, provisional },
        } => {
            let store = open_store(&cfg, progress).await;
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| fail(format!("{}: {e}", file.display())));
            use lapor_server::holidays::{HolidayImportError, import};
            match import(store.as_ref(), &file.display().to_string(), &text, provisional).await {
                Ok(summary) => println!("{summary}"),
                Err(HolidayImportError::Invalid(errors)) => {
                    for e in &errors {
                        eprintln!("{}:{}: {}", file.display(), e.line, e.message);
                    }
                    fail(format!(
                        "{}: {} problem(s); nothing imported, the calendar in use is unchanged",
                        file.display(),
                        errors.len()
                    ))
                }
                Err(HolidayImportError::Store(e)) => fail(e),
            }
        }
        Cmd::Outbox { what } => {
            let store = open_store(&cfg, false).await;
            outbox::run(store.as_ref(), what).await.unwrap_or_else(|e| fail(e));
        }
        Cmd::Integration { what } => {
            let store = open_store(&cfg, false).await;
            integration::run(store.as_ref(), what).await.unwrap_or_else(|e| fail(e));
        }
        Cmd::BenchData {
            reports,
            seed,
            batch,
            rollup_keys,
        } => {
            let store = open_store(&cfg, progress).await;
            let o = bench_data::Options {
                reports,
                seed,
                batch,
                rollup_keys,
            };
            let s = bench_data::run(store, load_calendar(&cfg), o, progress)
                .await
                .unwrap_or_else(|e| fail(e));
            println!(
                "bench-data: {} reports, {} events, {} rollup rows in {:.1} s ({:.0} reports/s; {} indexes made again in {:.1} s)",
                s.reports,
                s.events,
                s.rollup_rows,
                s.seconds,
                s.reports as f64 / s.seconds.max(1e-9),
                s.indexes,
                s.index_seconds
            );
        }
        Cmd::Rollups { what } => {
            let store = open_store(&cfg, progress).await;
            rollups::run(store.as_ref(), load_calendar(&cfg), what, progress)
                .await
                .unwrap_or_else(|e| fail(e));
        }
        Cmd::Worker { no_scheduler } => {
            let store = open_store(&cfg, progress).await;
            let (state, _sink) = build_state(&cfg, store, false, None).await;
            let bg = background::Background::start(&state, &cfg, !no_scheduler);
            println!(
                "Lapor worker running (scheduler {}); Ctrl-C stops it",
                if no_scheduler { "off" } else { "on" }
            );
            if let Some(m) = metrics_listener(&cfg, &state).await {
                println!("Metrics at http://{m}/metrics");
            }
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("stopping after the current batch");
            bg.stop().await;
        }
        Cmd::Import {
            what: ImportCmd::Institutions { file },
        } => {
            let store = open_store(&cfg, progress).await;
            let n = import::import_institutions(store.as_ref(), &file)
                .await
                .unwrap_or_else(|e| fail(e));
            println!("institutions: {n} loaded");
        }
        Cmd::Totp { key } => {
            let key = key.unwrap_or_else(|| demo::DEMO_TOTP_SECRET.to_string());
            match lapor_domain::totp::base32_decode(&key) {
                Some(raw) => println!("{}", lapor_domain::totp::code_at(&raw, chrono::Utc::now().timestamp())),
                None => fail("key: not base32"),
            }
        }
        Cmd::Serve { demo, bind } => {
            let store = open_store(&cfg, progress).await;
            if demo {
                demo::seed(store.as_ref(), &cfg.data_dir, progress)
                    .await
                    .unwrap_or_else(|e| fail(e));
            }
            let (state, sink) = build_state(&cfg, store, demo, bind.as_deref()).await;
            let bg = cfg.workers.then(|| background::Background::start(&state, &cfg, true));
            let bind = bind.unwrap_or(cfg.bind.clone());
            let listener = tokio::net::TcpListener::bind(&bind)
                .await
                .unwrap_or_else(|e| fail(format!("bind {bind}: {e}")));
            let addr = listener.local_addr().unwrap_or_else(|e| fail(e));
            // Printed before the line that says the server is up, which
            // tests and scripts wait for.
            if let Some(m) = metrics_listener(&cfg, &state).await {
                println!("Metrics at http://{m}/metrics");
            }
            println!("Lapor is running at http://{addr}/  (API docs: http://{addr}/api/v1/docs/)");
            // Inbound e-mail is an entry point like HTTP: it lives with `serve`.
            let _smtp = lapor_server::channels::email::listen(&state)
                .await
                .unwrap_or_else(|e| fail(e));
            if demo {
                println!("Demo logins (password for all: {}):", demo::DEMO_PASSWORD);
                for (login, _, role, inst) in demo::DEMO_USERS {
                    let role = role.map(|r| r.as_str()).unwrap_or("citizen (reporter)");
                    println!("  {login:<32} {role:<18} {inst}");
                }
                println!(
                    "National and institution admins also need a code from an authenticator app with the demo key {} (or run `lapor totp`).",
                    demo::DEMO_TOTP_SECRET
                );
            }
            if sink.is_some() {
                println!(
                    "E-mail goes to a local test mailbox: each message is saved in {}",
                    demo_mail_dir(&cfg).display()
                );
            }
            let app = lapor_server::router(state);
            tokio::select! {
                r = lapor_server::serve(listener, app) => r.unwrap_or_else(|e| fail(e)),
                _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
            }
            if let Some(bg) = bg {
                bg.stop().await;
            }
        }
    }
}
