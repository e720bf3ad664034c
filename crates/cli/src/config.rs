//! Configuration: defaults, then an optional TOML file, then `LAPOR_*`
//! environment variables (each layer overrides the one before).

use lapor_domain::sla::SlaPolicy;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://path/to/file.db` (default) or `postgres://user@host/db`.
    pub database_url: String,
    pub bind: String,
    /// Folder with the reference data (regions, holidays, institutions).
    pub data_dir: PathBuf,
    /// Replacement holiday CSV (same format as data/holidays); optional.
    pub holidays_file: Option<PathBuf>,
    /// Whether joint leave days (cuti bersama) count as working days.
    pub joint_leave_is_working: bool,
    pub log: String,
    pub max_body_bytes: usize,
    pub secure_cookies: bool,
    pub db_max_connections: u32,
    /// Durable commits (SQLite synchronous=FULL). Leave on in production.
    pub durable: bool,
    /// Deadline rule sets; the first applies to new reports.
    pub policies: Vec<SlaPolicy>,
    /// Map tiles for the report form's map picker, e.g.
    /// `https://tile.openstreetmap.org/{z}/{x}/{y}.png`. Empty: no map, the
    /// form offers latitude/longitude fields instead.
    pub tile_url: String,
    /// Attribution the tile provider requires (shown on the map).
    pub tile_attribution: String,
    /// Outgoing mail: `smtp://host:port` (plain, a local relay),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:465`. Empty: e-mail jobs wait in the outbox
    /// (with `--demo`, a local sink keeps them as files).
    pub smtp_url: String,
    pub mail_from: String,
    /// Run the delivery workers and the deadline scheduler inside `serve`.
    pub workers: bool,
    /// Jobs of a batch delivered concurrently.
    pub worker_concurrency: usize,
    /// Seconds a claimed job stays hidden from other workers; a worker that
    /// dies mid-batch delays its jobs by this much.
    pub worker_lease_secs: u64,
    /// Seconds between deadline scheduler passes.
    pub scheduler_interval_secs: u64,
    /// Bearer token that unlocks `/metrics` on the main listener (empty:
    /// not served there).
    pub metrics_token: String,
    /// A listener of its own for `/metrics`, without a token, e.g.
    /// `10.0.0.5:9464` on the monitoring network (empty: none). `serve` and
    /// `worker` both open it.
    pub metrics_bind: String,
    /// Chat and SMS channels (`[channels.telegram]`, `[channels.sms]`, …;
    /// see docs/channels.md). Each is off unless configured.
    pub channels: lapor_server::channels::ChannelsConfig,
    /// Reporting upward to the national SP4N-LAPOR! v3 API (`[lapor_v3]`;
    /// see docs/integration.md). Off unless configured.
    pub lapor_v3: Option<lapor_server::integration::lapor_v3::LaporV3Config>,
    /// This instance as a connected system of a national Lapor hub
    /// (`[hub]`; see docs/integration.md). Off unless configured.
    pub hub: Option<lapor_server::integration::federation::HubConfig>,
    /// Rate limits on signing in and filing reports (`[limits]`).
    pub limits: Limits,
}

/// `[limits]`: 0 turns a limit off.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Sign-in, registration, PIN and token requests per client address
    /// per minute.
    pub sign_in_per_minute: u32,
    /// Reports filed per client address per minute.
    pub submit_per_minute: u32,
    /// Reports filed per signed-in citizen per hour.
    pub submit_per_account_per_hour: u32,
    /// The header the reverse proxy puts the client's address in
    /// (`x-forwarded-for`, `x-real-ip`). Empty: the TCP peer. Set it only
    /// behind a proxy that overwrites it.
    pub client_address_header: String,
}

impl Default for Limits {
    fn default() -> Self {
        let d = lapor_server::throttle::RateLimits::default();
        Limits {
            sign_in_per_minute: d.sign_in_per_address.max,
            submit_per_minute: d.submit_per_address.max,
            submit_per_account_per_hour: d.submit_per_account.max,
            client_address_header: String::new(),
        }
    }
}

impl Limits {
    pub fn rate_limits(&self) -> lapor_server::throttle::RateLimits {
        use lapor_server::throttle::{Limit, RateLimits};
        RateLimits {
            sign_in_per_address: Limit::per_minute(self.sign_in_per_minute),
            submit_per_address: Limit::per_minute(self.submit_per_minute),
            submit_per_account: Limit::per_hour(self.submit_per_account_per_hour),
            client_address_header: Some(self.client_address_header.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://lapor-data/lapor.db".into(),
            bind: "127.0.0.1:8080".into(),
            data_dir: default_data_dir(),
            holidays_file: None,
            joint_leave_is_working: false,
            log: "info,tower_http=info,sqlx=warn".into(),
            max_body_bytes: 64 * 1024,
            secure_cookies: false,
            db_max_connections: 8,
            durable: true,
            policies: vec![SlaPolicy::default()],
            tile_url: String::new(),
            tile_attribution: String::new(),
            smtp_url: String::new(),
            mail_from: "Lapor <no-reply@lapor.localhost>".into(),
            workers: true,
            worker_concurrency: 32,
            worker_lease_secs: 120,
            scheduler_interval_secs: 30,
            metrics_token: String::new(),
            metrics_bind: String::new(),
            channels: Default::default(),
            lapor_v3: None,
            hub: None,
            limits: Limits::default(),
        }
    }
}

/// `./data` when run from a checkout, else the data folder of the source tree
/// the binary was built from.
fn default_data_dir() -> PathBuf {
    let local = PathBuf::from("data");
    if local.join("regions").is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

fn env_parse<T: std::str::FromStr>(key: &str) -> Result<Option<T>, String> {
    match std::env::var(key) {
        Ok(v) => v.parse().map(Some).map_err(|_| format!("{key}: cannot parse {v:?}")),
        Err(_) => Ok(None),
    }
}

impl Config {
    pub fn load(file: Option<&Path>) -> Result<Config, String> {
        let mut c = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
                toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?
            }
            None => Config::default(),
        };
        if let Some(v) = env_parse("LAPOR_DATABASE_URL")? {
            c.database_url = v;
        }
        if let Some(v) = env_parse("LAPOR_BIND")? {
            c.bind = v;
        }
        if let Some(v) = env_parse::<String>("LAPOR_DATA_DIR")? {
            c.data_dir = v.into();
        }
        if let Some(v) = env_parse::<String>("LAPOR_HOLIDAYS_FILE")? {
            c.holidays_file = Some(v.into());
        }
        if let Some(v) = env_parse("LAPOR_JOINT_LEAVE_IS_WORKING")? {
            c.joint_leave_is_working = v;
        }
        if let Some(v) = env_parse("LAPOR_LOG")? {
            c.log = v;
        }
        if let Some(v) = env_parse("LAPOR_MAX_BODY_BYTES")? {
            c.max_body_bytes = v;
        }
        if let Some(v) = env_parse("LAPOR_SECURE_COOKIES")? {
            c.secure_cookies = v;
        }
        if let Some(v) = env_parse("LAPOR_DB_MAX_CONNECTIONS")? {
            c.db_max_connections = v;
        }
        if let Some(v) = env_parse("LAPOR_DURABLE")? {
            c.durable = v;
        }
        if let Some(v) = env_parse("LAPOR_TILE_URL")? {
            c.tile_url = v;
        }
        if let Some(v) = env_parse("LAPOR_TILE_ATTRIBUTION")? {
            c.tile_attribution = v;
        }
        if let Some(v) = env_parse("LAPOR_SMTP_URL")? {
            c.smtp_url = v;
        }
        if let Some(v) = env_parse("LAPOR_MAIL_FROM")? {
            c.mail_from = v;
        }
        if let Some(v) = env_parse("LAPOR_WORKERS")? {
            c.workers = v;
        }
        if let Some(v) = env_parse("LAPOR_WORKER_CONCURRENCY")? {
            c.worker_concurrency = v;
        }
        if let Some(v) = env_parse("LAPOR_WORKER_LEASE_SECS")? {
            c.worker_lease_secs = v;
        }
        if let Some(v) = env_parse("LAPOR_SCHEDULER_INTERVAL_SECS")? {
            c.scheduler_interval_secs = v;
        }
        if let Some(v) = env_parse("LAPOR_METRICS_TOKEN")? {
            c.metrics_token = v;
        }
        if let Some(v) = env_parse("LAPOR_METRICS_BIND")? {
            c.metrics_bind = v;
        }
        if let Some(v) = env_parse("LAPOR_LIMIT_SIGN_IN_PER_MINUTE")? {
            c.limits.sign_in_per_minute = v;
        }
        if let Some(v) = env_parse("LAPOR_LIMIT_SUBMIT_PER_MINUTE")? {
            c.limits.submit_per_minute = v;
        }
        if let Some(v) = env_parse("LAPOR_LIMIT_SUBMIT_PER_ACCOUNT_PER_HOUR")? {
            c.limits.submit_per_account_per_hour = v;
        }
        if let Some(v) = env_parse("LAPOR_CLIENT_ADDRESS_HEADER")? {
            c.limits.client_address_header = v;
        }
        if header_name_ok(&c.limits.client_address_header).is_err() {
            return Err("limits.client_address_header: not a valid header name".into());
        }
        let tiles_ok = c.tile_url.is_empty() || c.tile_url.starts_with("https://") || c.tile_url.starts_with("http://");
        if !tiles_ok {
            return Err("tile_url: must be an http(s) URL template with {z}/{x}/{y}".into());
        }
        if c.policies.is_empty() {
            return Err("policies: at least one rule set is needed".into());
        }
        Ok(c)
    }
}

/// An empty name (no header) or a valid HTTP header name.
fn header_name_ok(name: &str) -> Result<(), ()> {
    let name = name.trim();
    if name.is_empty()
        || name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_defaults() {
        let c: Config = toml::from_str("bind = \"0.0.0.0:9000\"\n[[policies]]\nname = \"permenpanrb-5-2025\"\nverification_days = 3\nacceptance_days = 3\nfollowup_aspirasi_days = 5\nfollowup_information_days = 5\nfollowup_complaint_days = 10\nfollowup_investigation_days = 60\nreply_window_days = 10\nreopen_window_days = 10\nombudsman_after_calendar_days = 60\n").unwrap();
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert_eq!(c.database_url, Config::default().database_url);
        assert_eq!(c.policies[0].followup_complaint_days, 10);
        assert!(toml::from_str::<Config>("no_such_key = 1").is_err());
    }
}
