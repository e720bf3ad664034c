//! Connector to the national SP4N-LAPOR! v3 API, for an instance (say a
//! regency's) that must still report upward.
//!
//! A reconciliation loop, safe to stop and restart at any point:
//! 1. verified reports not yet sent go up as complaints, with their
//!    submission files (`POST /complaints/complaint/file`, then
//!    `POST /complaints/complaint`), addressed to our institution upstream;
//! 2. for each report sent, our new follow-ups go up
//!    (`POST /complaints/followup/add`, multipart, with their files), and a
//!    transfer to an institution outside this instance goes up as a forward
//!    (`POST /complaints/process/{id}/reject`, `not_authority`);
//! 3. the national follow-up logs (`GET /complaints/{id}/followups?page=n`)
//!    come back as internal notes on the report, except our own; a
//!    complaint the national system no longer has
//!    (`GET /complaints/{id}/complaint` is 404) stops being followed.
//!
//! The institution list (`GET /masters/institutions/external`) is synced
//! once a day and matched to ours by name, for the forwards.
//!
//! What it cannot promise: the v3 API takes no idempotency key, so a crash
//! between its answer to a new complaint and our record of it sends that
//! complaint twice. The window is one HTTP answer wide.

use crate::AppState;
use crate::service;
use chrono::{DateTime, Utc};
use lapor_domain::event::EventData;
use lapor_domain::report::{Report, Visibility};
use lapor_domain::{Error, ErrorCode};
use lapor_integration::lapor_v3::{
    self as wire, Codes, Created, Docs, Envelope, ExternalInstitution, FollowUpLog, Forward, NewComplaint, Outgoing,
    Page,
};
use lapor_store::ts::Ts;
use lapor_store::{UpstreamInstitution, UpstreamRef};
use serde::Deserialize;
use std::time::Duration;

/// The name of this upstream in the store.
pub const SYSTEM: &str = "lapor_v3";

/// `[lapor_v3]` in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaporV3Config {
    /// E.g. `https://api-splp.layanan.go.id/lapor/3.0.0` (behind the SPLP gateway).
    pub base_url: String,
    /// The bearer secret, sent as `Authorization: Bearer …`.
    pub bearer: String,
    /// The token GUID, sent as the `token` header.
    pub token: String,
    /// Codes the national system gave this integration.
    pub channel: i64,
    pub classification_id: i64,
    pub category_id: i64,
    pub location_id: i64,
    /// Our institution's id upstream: complaints go to it, and logs from it
    /// are our own.
    pub institution_id: i64,
    /// Only reports submitted from then on go up (default: all).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Seconds between passes (default 300).
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
}

fn default_interval() -> u64 {
    300
}

impl LaporV3Config {
    fn codes(&self) -> Codes {
        Codes {
            channel: self.channel,
            classification_id: self.classification_id,
            category_id: self.category_id,
            location_id: self.location_id,
            disposition_id: self.institution_id,
        }
    }
}

fn upstream(what: &str, e: impl std::fmt::Display) -> Error {
    Error::with(ErrorCode::Unavailable, format!("SP4N-LAPOR! {what}: {e}"))
}

/// An HTTP client of the v3 API.
pub struct Client {
    http: reqwest::Client,
    cfg: LaporV3Config,
}

impl Client {
    pub fn new(cfg: LaporV3Config) -> Client {
        Client {
            http: super::upstream_http(),
            cfg,
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.cfg.base_url.trim_end_matches('/')))
            .header(reqwest::header::AUTHORIZATION, format!("Bearer {}", self.cfg.bearer))
            .header("token", &self.cfg.token)
            .header(reqwest::header::ACCEPT, "application/json")
    }

    async fn send<T: serde::de::DeserializeOwned>(&self, what: &str, r: reqwest::RequestBuilder) -> Result<T, Error> {
        let resp = r.send().await.map_err(|e| upstream(what, e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| upstream(what, e))?;
        if !status.is_success() {
            return Err(upstream(
                what,
                format!(
                    "HTTP {}: {}",
                    status.as_u16(),
                    text.chars().take(200).collect::<String>()
                ),
            ));
        }
        serde_json::from_str(&text).map_err(|e| upstream(what, format!("unexpected answer ({e})")))
    }

    /// Uploads files; returns their ids.
    pub async fn upload(&self, files: Vec<(String, String, Vec<u8>)>) -> Result<Vec<i64>, Error> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let mut form = reqwest::multipart::Form::new();
        for (name, media_type, bytes) in files {
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name(name)
                .mime_str(&media_type)
                .map_err(|e| upstream("file", e))?;
            form = form.part("attachments[]", part);
        }
        let docs: Envelope<Docs> = self
            .send(
                "file upload",
                self.req(reqwest::Method::POST, "/complaints/complaint/file")
                    .multipart(form),
            )
            .await?;
        Ok(docs.results.docs.into_iter().map(|d| d.id).collect())
    }

    pub async fn create(&self, c: &NewComplaint) -> Result<i64, Error> {
        let created: Created = self
            .send(
                "new complaint",
                self.req(reqwest::Method::POST, "/complaints/complaint").json(c),
            )
            .await?;
        Ok(created.complaint_id)
    }

    pub async fn forward(&self, id: &str, f: &Forward) -> Result<(), Error> {
        let _: serde_json::Value = self
            .send(
                "forward",
                self.req(reqwest::Method::POST, &format!("/complaints/process/{id}/reject"))
                    .json(f),
            )
            .await?;
        Ok(())
    }

    /// The complaint as the national system holds it (`results.data`), or
    /// None when it no longer exists there.
    pub async fn complaint(&self, id: &str) -> Result<Option<serde_json::Value>, Error> {
        let resp = self
            .req(reqwest::Method::GET, &format!("/complaints/{id}/complaint"))
            .send()
            .await
            .map_err(|e| upstream("complaint", e))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let status = resp.status();
        let text = resp.text().await.map_err(|e| upstream("complaint", e))?;
        if !status.is_success() {
            return Err(upstream(
                "complaint",
                format!(
                    "HTTP {}: {}",
                    status.as_u16(),
                    text.chars().take(200).collect::<String>()
                ),
            ));
        }
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| upstream("complaint", e))?;
        Ok(Some(v["results"]["data"].clone()))
    }

    /// Every follow-up log of a complaint, all pages.
    pub async fn followups(&self, id: &str) -> Result<Vec<FollowUpLog>, Error> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let p: Envelope<Page<FollowUpLog>> = self
                .send(
                    "follow-ups",
                    self.req(reqwest::Method::GET, &format!("/complaints/{id}/followups?page={page}")),
                )
                .await?;
            out.extend(p.results.data);
            if p.results.current_page >= p.results.last_page || page >= 1000 {
                return Ok(out);
            }
            page += 1;
        }
    }

    pub async fn add_followup(
        &self,
        id: &str,
        content: &str,
        is_secret: bool,
        files: Vec<(String, String, Vec<u8>)>,
    ) -> Result<(), Error> {
        let mut form = reqwest::multipart::Form::new()
            .text("complaint_id", id.to_string())
            .text("content", content.to_string())
            .text("rating", "0")
            .text("is_secret", if is_secret { "1" } else { "0" })
            .text("institution_from_id", self.cfg.institution_id.to_string())
            .text("institution_to_id", self.cfg.institution_id.to_string());
        for (i, (name, media_type, bytes)) in files.into_iter().enumerate() {
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name(name)
                .mime_str(&media_type)
                .map_err(|e| upstream("file", e))?;
            form = form.part(format!("attachment[{i}]"), part);
        }
        let _: serde_json::Value = self
            .send(
                "follow-up",
                self.req(reqwest::Method::POST, "/complaints/followup/add")
                    .multipart(form),
            )
            .await?;
        Ok(())
    }

    /// The national institution list, all pages.
    pub async fn institutions(&self) -> Result<Vec<ExternalInstitution>, Error> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let p: Envelope<Page<ExternalInstitution>> = self
                .send(
                    "institutions",
                    self.req(
                        reqwest::Method::GET,
                        &format!("/masters/institutions/external?page={page}"),
                    ),
                )
                .await?;
            out.extend(p.results.data);
            if p.results.current_page >= p.results.last_page || page >= 1000 {
                return Ok(out);
            }
            page += 1;
        }
    }
}

/// Fetches the national institution list and matches it to ours by name.
/// Returns (upstream institutions, matched to ours).
pub async fn sync_institutions(state: &AppState, client: &Client) -> Result<(usize, usize), Error> {
    let theirs = client.institutions().await?;
    let ours = state
        .store
        .institutions(&lapor_store::InstitutionQuery {
            limit: 100_000,
            ..Default::default()
        })
        .await?;
    let by_name: std::collections::HashMap<String, String> =
        ours.into_iter().map(|i| (wire::name_key(&i.name), i.code)).collect();
    let rows: Vec<UpstreamInstitution> = theirs
        .into_iter()
        .map(|t| UpstreamInstitution {
            local_code: by_name.get(&wire::name_key(&t.name)).cloned(),
            remote_id: t.id,
            name: t.name,
        })
        .collect();
    let matched = rows.iter().filter(|r| r.local_code.is_some()).count();
    state.store.save_upstream_institutions(SYSTEM, &rows).await?;
    Ok((rows.len(), matched))
}

/// The files that came with one event of a report.
async fn files_of(state: &AppState, r: &Report, event_seq: i64) -> Result<Vec<(String, String, Vec<u8>)>, Error> {
    let mut out = Vec::new();
    for meta in state.store.attachments(&r.tracking_id).await? {
        if meta.event_seq != event_seq {
            continue;
        }
        if let Some((m, bytes)) = state.store.attachment(&meta.id).await? {
            // Stored by short name (`jpeg`); the upload wants the MIME type.
            let mime =
                lapor_domain::media::MediaType::parse(&m.media_type).map_or("application/octet-stream", |t| t.mime());
            out.push((m.filename, mime.to_string(), bytes));
        }
    }
    Ok(out)
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    pub followups_sent: usize,
    pub forwards_sent: usize,
    pub notes_added: usize,
    pub failed: usize,
    /// What failed, per report, for the log.
    pub errors: Vec<String>,
}

async fn send_report(state: &AppState, client: &Client, cfg: &LaporV3Config, r: &Report) -> Result<UpstreamRef, Error> {
    let name = match (&r.reporter_id, r.anonymous) {
        (Some(id), false) => state.store.reporter(id).await?.and_then(|p| p.name),
        _ => None,
    };
    let place = match &r.region_code {
        Some(code) => Some(state.names.place(state, Some(code)).await?),
        None => None,
    };
    let files = files_of(state, r, 1).await?;
    let ids = client.upload(files).await?;
    let out = Outgoing {
        tracking_id: r.tracking_id.as_str(),
        title: &r.title,
        body: &r.body,
        incident_date: r.incident_date,
        place: place.as_deref(),
        anonymous: r.anonymous,
        confidential: r.confidential,
        reporter_name: name.as_deref(),
    };
    let remote = client.create(&wire::complaint(&out, &cfg.codes(), &ids)).await?;
    Ok(UpstreamRef {
        system: SYSTEM.into(),
        tracking_id: r.tracking_id.to_string(),
        remote_id: remote.to_string(),
        // What happened before it went up is in the complaint itself.
        sent_seq: r.version,
        logs_seen: 0,
        closed: false,
        updated_at: Utc::now(),
    })
}

/// Sends our new events of one report and brings theirs back.
async fn follow(
    state: &AppState,
    client: &Client,
    cfg: &LaporV3Config,
    mut u: UpstreamRef,
    pass: &mut Pass,
) -> Result<(), Error> {
    let tid = lapor_domain::ids::TrackingId::parse(&u.tracking_id)?;
    let Some(stored) = state.store.report(&tid).await? else {
        return Ok(());
    };
    let r = stored.report;
    let sent = u.sent_seq;
    for e in state.store.events(&tid).await?.into_iter().filter(|e| e.seq > sent) {
        match &e.data {
            EventData::FollowedUp { .. } if e.visibility != Visibility::Internal => {
                let files = files_of(state, &r, e.seq).await?;
                client
                    .add_followup(
                        &u.remote_id,
                        e.body.as_deref().unwrap_or_default(),
                        r.confidential,
                        files,
                    )
                    .await?;
                pass.followups_sent += 1;
            }
            EventData::Transferred { to, reason, .. } => match state.store.upstream_institution(SYSTEM, to).await? {
                Some(target) => {
                    client.forward(&u.remote_id, &Forward::to(target, reason)).await?;
                    pass.forwards_sent += 1;
                }
                None => {
                    tracing::warn!(report = %tid, to = %to, "transfer not sent upward: no matching national institution")
                }
            },
            _ => {}
        }
        // Recorded after each event, so a failure resends only what failed.
        u.sent_seq = e.seq;
        u.updated_at = Utc::now();
        state.store.save_upstream_ref(&u).await?;
    }
    // A complaint the national system no longer has is not followed any
    // more; staff hear of it.
    if client.complaint(&u.remote_id).await?.is_none() {
        let body = format!(
            "[SP4N-LAPOR!] Pengaduan nomor {} tidak ada lagi di sistem nasional; sinkronisasi berhenti.",
            u.remote_id
        );
        if service::note_as_system(state, tid.as_str(), body).await? {
            pass.notes_added += 1;
        }
        u.closed = true;
        u.updated_at = Utc::now();
        return state.store.save_upstream_ref(&u).await;
    }
    let logs = client.followups(&u.remote_id).await?;
    for log in logs.iter().skip(usize::try_from(u.logs_seen).unwrap_or(0)) {
        if log.institution_from_id != Some(cfg.institution_id) {
            let body = log.note();
            if service::note_as_system(state, tid.as_str(), body).await? {
                pass.notes_added += 1;
            }
        }
        u.logs_seen += 1;
        u.updated_at = Utc::now();
        state.store.save_upstream_ref(&u).await?;
    }
    if r.status.is_closed() {
        u.closed = true;
    }
    u.updated_at = Utc::now();
    state.store.save_upstream_ref(&u).await
}

/// One pass of the loop. Failures of one report do not stop the others;
/// they are counted and tried again next pass.
pub async fn run_once(state: &AppState, client: &Client, cfg: &LaporV3Config) -> Result<Pass, Error> {
    let mut pass = Pass::default();
    let since = Ts::new(cfg.since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH));
    for tid in state.store.unforwarded_reports(SYSTEM, None, since, 200).await? {
        let Some(stored) = state.store.report(&tid).await? else {
            continue;
        };
        match send_report(state, client, cfg, &stored.report).await {
            Ok(u) => {
                state.store.save_upstream_ref(&u).await?;
                pass.sent += 1;
            }
            Err(e) => {
                tracing::warn!(report = %tid, error = %e, "report not sent upward; next pass tries again");
                pass.failed += 1;
                pass.errors.push(format!("{tid}: {e}"));
            }
        }
    }
    for u in state.store.open_upstream_refs(SYSTEM, 1000).await? {
        let id = u.tracking_id.clone();
        if let Err(e) = follow(state, client, cfg, u, &mut pass).await {
            tracing::warn!(report = %id, error = %e, "upstream sync of the report failed; next pass tries again");
            pass.failed += 1;
            pass.errors.push(format!("{id}: {e}"));
        }
    }
    Ok(pass)
}

/// Runs passes until `stop`; syncs the institution list once a day.
pub async fn run(state: AppState, cfg: LaporV3Config, mut stop: tokio::sync::watch::Receiver<bool>) {
    let client = Client::new(cfg.clone());
    let mut last_sync: Option<std::time::Instant> = None;
    loop {
        if *stop.borrow() {
            return;
        }
        if last_sync.is_none_or(|t| t.elapsed() > Duration::from_secs(24 * 3600)) {
            match sync_institutions(&state, &client).await {
                Ok((all, matched)) => {
                    tracing::info!(all, matched, "SP4N-LAPOR! institutions synced");
                    last_sync = Some(std::time::Instant::now());
                }
                Err(e) => tracing::warn!(error = %e, "SP4N-LAPOR! institution sync failed"),
            }
        }
        match run_once(&state, &client, &cfg).await {
            Ok(p) if p != Pass::default() => tracing::info!(?p, "SP4N-LAPOR! pass"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "SP4N-LAPOR! pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(cfg.interval_secs.max(10))) => {}
            _ = stop.changed() => {}
        }
    }
}
