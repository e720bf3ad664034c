//! Federation: this instance (say a regency's) as a connected system of
//! another Lapor (a national hub), through the hub's ordinary integration
//! API with an ordinary client key. Nothing on the hub knows that the other
//! side is a Lapor too.
//!
//! A reconciliation loop, safe to stop and restart at any point:
//! 1. **Up:** verified reports filed here are pushed to the hub
//!    (`POST /api/v1/integration/reports`, `external_id` = our Tracking ID),
//!    so the centre sees them; our follow-ups, status changes and
//!    transfers follow, each under `external_id` = `{tracking id}:{seq}`,
//!    so a resend after a crash is acknowledged, never applied twice.
//! 2. **Down:** the hub's changes feed (`GET /api/v1/integration/changes`,
//!    cursor kept in settings) brings reports the hub dispositioned to us:
//!    they are filed here and dispositioned to our institution, and from
//!    then on handled like the rest. Changes others make on the hub (a note,
//!    a transfer away, the reporter's reply or rating there) come back as
//!    internal notes; our own changes are not echoed.
//!
//! Institution codes are the same on both sides for regional governments
//! (they derive from Kemendagri region codes), so a transfer names its
//! target by code.

use crate::AppState;
use crate::auth::Caller;
use crate::service::{self, ActionRequest, Intake, SubmitReport};
use chrono::{DateTime, Utc};
use lapor_domain::event::EventData;
use lapor_domain::ids::TrackingId;
use lapor_domain::report::{Channel, Classification, Report, Visibility};
use lapor_domain::{Error, ErrorCode};
use lapor_integration::feed::Change;
use lapor_store::UpstreamRef;
use lapor_store::ts::Ts;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// The name of this upstream in the store.
pub const SYSTEM: &str = "lapor_hub";

/// `[hub]` in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    /// The hub's address, e.g. `https://lapor.go.id`.
    pub base_url: String,
    /// A key of the hub's API client for our institution, with
    /// `reports:read` and `reports:write`.
    pub api_key: String,
    /// Our institution's code (the same on the hub).
    pub institution: String,
    /// Only reports submitted from then on go up (default: all).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Seconds between passes (default 30).
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
}

fn default_interval() -> u64 {
    30
}

fn hub_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::with(ErrorCode::Unavailable, format!("hub {what}: {e}"))
}

/// A client of the hub's integration API.
pub struct Hub {
    http: reqwest::Client,
    cfg: HubConfig,
}

/// How the hub answered a write.
enum Answer {
    Done(Value),
    /// The hub no longer lets us act on the report (404): it left us there.
    Gone,
}

impl Hub {
    pub fn new(cfg: HubConfig) -> Hub {
        Hub {
            http: super::upstream_http(),
            cfg,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/integration{path}", self.cfg.base_url.trim_end_matches('/'))
    }

    async fn call(&self, what: &str, r: reqwest::RequestBuilder) -> Result<Answer, Error> {
        let resp = r
            .bearer_auth(&self.cfg.api_key)
            .send()
            .await
            .map_err(|e| hub_error(what, e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| hub_error(what, e))?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(Answer::Gone);
        }
        if status == reqwest::StatusCode::CONFLICT && what == "action" {
            // The hub's report is already past this step (it was accepted
            // on push, say): retrying cannot change that.
            tracing::info!(answer = %text.chars().take(200).collect::<String>(), "federation: the hub had already moved on");
            return Ok(Answer::Done(Value::Null));
        }
        if !status.is_success() {
            return Err(hub_error(
                what,
                format!(
                    "HTTP {}: {}",
                    status.as_u16(),
                    text.chars().take(300).collect::<String>()
                ),
            ));
        }
        serde_json::from_str(&text)
            .map(Answer::Done)
            .map_err(|e| hub_error(what, e))
    }

    async fn post(&self, what: &str, path: &str, body: Value) -> Result<Answer, Error> {
        self.call(what, self.http.post(self.url(path)).json(&body)).await
    }

    async fn get(&self, what: &str, path: &str) -> Result<Answer, Error> {
        self.call(what, self.http.get(self.url(path))).await
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    pub pushed: usize,
    pub actions_sent: usize,
    pub pulled: usize,
    pub notes_added: usize,
    pub failed: usize,
    pub errors: Vec<String>,
}

impl Pass {
    fn failed(&mut self, what: String, e: &Error) {
        tracing::warn!(%what, error = %e, "federation: will try again next pass");
        self.failed += 1;
        self.errors.push(format!("{what}: {e}"));
    }
}

/// The push body for a report filed here.
fn push_body(r: &Report) -> Value {
    json!({
        "external_id": r.tracking_id.as_str(),
        "classification": r.classification.as_str(),
        "needs_investigation": r.needs_investigation,
        "category": r.category,
        "title": r.title,
        "body": r.body,
        "incident_date": r.incident_date,
        "region_code": r.region_code,
        "latitude": r.latitude,
        "longitude": r.longitude,
        "anonymous": r.anonymous,
        "confidential": r.confidential,
        "channel": r.channel.as_str(),
    })
}

/// Pushes a report; a resend (after a crash before we recorded the answer)
/// gets the same hub report back.
async fn push(hub: &Hub, r: &Report) -> Result<UpstreamRef, Error> {
    let Answer::Done(v) = hub.post("push", "/reports", push_body(r)).await? else {
        return Err(hub_error("push", "404"));
    };
    let remote = v["tracking_id"]
        .as_str()
        .ok_or_else(|| hub_error("push", "no tracking_id"))?;
    Ok(UpstreamRef {
        system: SYSTEM.into(),
        tracking_id: r.tracking_id.to_string(),
        remote_id: remote.to_string(),
        sent_seq: r.version,
        logs_seen: 0,
        closed: false,
        updated_at: Utc::now(),
    })
}

/// The hub request an event of ours becomes, if any.
fn action_for(e: &lapor_domain::event::Event) -> Option<(&'static str, Value)> {
    match &e.data {
        EventData::FollowedUp { .. } if e.visibility != Visibility::Internal => {
            Some(("/follow-ups", json!({ "body": e.body.clone().unwrap_or_default() })))
        }
        EventData::PutOnHold { message } => Some(("/status", json!({ "status": "on_hold", "message": message }))),
        EventData::Resumed { .. } | EventData::Accepted { .. } => Some(("/status", json!({ "status": "in_progress" }))),
        EventData::Completed { .. } => Some(("/status", json!({ "status": "completed" }))),
        EventData::Transferred { to, reason, .. } => {
            Some(("/transfer", json!({ "institution": to, "reason": reason })))
        }
        _ => None,
    }
}

/// Sends our new events of one report to the hub.
async fn send_events(state: &AppState, hub: &Hub, mut u: UpstreamRef, pass: &mut Pass) -> Result<(), Error> {
    let tid = TrackingId::parse(&u.tracking_id)?;
    let sent = u.sent_seq;
    for e in state.store.events(&tid).await?.into_iter().filter(|e| e.seq > sent) {
        if let Some((path, mut body)) = action_for(&e) {
            body["external_id"] = json!(format!("{}:{}", u.tracking_id, e.seq));
            match hub
                .post("action", &format!("/reports/{}{path}", u.remote_id), body)
                .await?
            {
                Answer::Done(_) => pass.actions_sent += 1,
                Answer::Gone => {
                    // The hub moved it away from us: nothing more to send.
                    u.closed = true;
                    break;
                }
            }
        }
        u.sent_seq = e.seq;
        u.updated_at = Utc::now();
        state.store.save_upstream_ref(&u).await?;
    }
    if let Some(stored) = state.store.report(&tid).await?
        && stored.report.status.is_closed()
        && u.sent_seq >= stored.report.version
    {
        u.closed = true;
    }
    u.updated_at = Utc::now();
    state.store.save_upstream_ref(&u).await
}

/// Files a report the hub dispositioned to us, and maps it.
async fn import(state: &AppState, hub: &Hub, remote: &str, pass: &mut Pass) -> Result<(), Error> {
    let Answer::Done(v) = hub.get("report", &format!("/reports/{remote}")).await? else {
        return Ok(());
    };
    let text = |k: &str| v[k].as_str().map(str::to_string);
    let category = match text("category") {
        Some(c) if state.known.category_exists(state, &c).await? => Some(c),
        _ => None,
    };
    let region_code = match text("region_code") {
        Some(c) if state.known.region_exists(state, &c).await? => Some(c),
        _ => None,
    };
    let req = SubmitReport {
        classification: text("classification")
            .and_then(|c| Classification::parse(&c))
            .unwrap_or(Classification::Pengaduan),
        needs_investigation: v["needs_investigation"].as_bool().unwrap_or(false),
        category,
        title: text("title").unwrap_or_default(),
        body: text("body").unwrap_or_default(),
        incident_date: text("incident_date").and_then(|d| d.parse().ok()),
        region_code,
        latitude: v["latitude"].as_f64(),
        longitude: v["longitude"].as_f64(),
        anonymous: v["anonymous"].as_bool().unwrap_or(false),
        confidential: v["confidential"].as_bool().unwrap_or(false),
        institution: Some(hub.cfg.institution.clone()),
        reporter: None,
        channel: None,
    };
    let intake = Intake {
        idempotency_key: Some(format!("hub:{remote}")),
        attachments: Vec::new(),
        via: Channel::Federation,
        for_reporter: None,
    };
    let sys = Caller::system(lapor_domain::Lang::Id);
    let res = service::submit_report(state, &sys, req, intake).await?;
    let tid = TrackingId::parse(&res.tracking_id)?;
    let current = state.store.report(&tid).await?.map(|s| s.report);
    if current.as_ref().is_some_and(|r| r.institution.is_none()) {
        let to = ActionRequest::Disposition {
            institution: hub.cfg.institution.clone(),
            classification: None,
            needs_investigation: None,
            category: None,
            note: Some(format!("Dari pusat (hub), nomor {remote}.")),
        };
        service::act(state, &sys, tid.as_str(), None, to, None).await?;
    }
    let version = state.store.report(&tid).await?.map_or(0, |s| s.report.version);
    state
        .store
        .save_upstream_ref(&UpstreamRef {
            system: SYSTEM.into(),
            tracking_id: tid.to_string(),
            remote_id: remote.to_string(),
            sent_seq: version,
            logs_seen: 0,
            closed: false,
            updated_at: Utc::now(),
        })
        .await?;
    pass.pulled += 1;
    Ok(())
}

/// Kinds of the hub's events that others cause and we must hear about.
const NEWS: [&str; 9] = [
    "note_added",
    "reporter_replied",
    "rated",
    "transferred",
    "archived",
    "reopened",
    "merged",
    "edited",
    "ombudsman_escalated",
];

/// One change of the hub's feed.
async fn take(state: &AppState, hub: &Hub, c: &Change, pass: &mut Pass) -> Result<(), Error> {
    let ours = c.actor.kind == "staff" && c.actor.institution.as_deref() == Some(hub.cfg.institution.as_str());
    if ours {
        return Ok(());
    }
    let known = state.store.upstream_ref_by_remote(SYSTEM, &c.tracking_id).await?;
    let Some(mut u) = known else {
        if c.kind == "dispositioned" && c.institution_to.as_deref() == Some(hub.cfg.institution.as_str()) {
            import(state, hub, &c.tracking_id, pass).await?;
        }
        return Ok(());
    };
    if !NEWS.contains(&c.kind.as_str()) {
        return Ok(());
    }
    let who = match (&c.actor.kind[..], &c.actor.institution) {
        ("staff", Some(i)) => i.clone(),
        (k, _) => k.to_string(),
    };
    let mut note = format!("[Pusat] {} ({who})", c.kind);
    if let Some(b) = c.body.as_deref().filter(|b| !b.trim().is_empty()) {
        note.push_str(": ");
        note.push_str(b.trim());
    }
    if service::note_as_system(state, &u.tracking_id, note).await? {
        pass.notes_added += 1;
    }
    let moved_away = c.kind == "transferred" && c.institution_to.as_deref() != Some(hub.cfg.institution.as_str());
    if moved_away || matches!(c.kind.as_str(), "archived" | "merged") {
        // Our events since the note are ours to keep; the hub's report has
        // left us, so nothing more goes up.
        if let Some(r) = state.store.report(&TrackingId::parse(&u.tracking_id)?).await? {
            u.sent_seq = r.report.version;
        }
        u.closed = true;
        u.updated_at = Utc::now();
        state.store.save_upstream_ref(&u).await?;
    }
    Ok(())
}

fn cursor_key(cfg: &HubConfig) -> String {
    format!(
        "federation:{}:{}:cursor",
        cfg.base_url.trim_end_matches('/'),
        cfg.institution
    )
}

/// One pass: push, send, pull. Failures of one report do not stop the
/// others; they are counted and tried again next pass.
pub async fn run_once(state: &AppState, hub: &Hub) -> Result<Pass, Error> {
    let mut pass = Pass::default();
    let since = Ts::new(hub.cfg.since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH));
    // Up first. A report that came down from the hub and whose mapping a
    // crash lost is recognised by its intake key and mapped, not pushed
    // back up as a new one.
    for tid in state
        .store
        .unforwarded_reports(SYSTEM, Some(&hub.cfg.institution), since, 200)
        .await?
    {
        let Some(stored) = state.store.report(&tid).await? else {
            continue;
        };
        if let Some(remote) = state
            .store
            .idempotency_key_of(&tid)
            .await?
            .and_then(|k| k.strip_prefix("hub:").map(str::to_string))
        {
            state
                .store
                .save_upstream_ref(&UpstreamRef {
                    system: SYSTEM.into(),
                    tracking_id: tid.to_string(),
                    remote_id: remote,
                    sent_seq: stored.report.version,
                    logs_seen: 0,
                    closed: false,
                    updated_at: Utc::now(),
                })
                .await?;
            continue;
        }
        match push(hub, &stored.report).await {
            Ok(u) => {
                state.store.save_upstream_ref(&u).await?;
                pass.pushed += 1;
            }
            Err(e) => pass.failed(tid.to_string(), &e),
        }
    }
    for u in state.store.open_upstream_refs(SYSTEM, 1000).await? {
        let id = u.tracking_id.clone();
        if let Err(e) = send_events(state, hub, u, &mut pass).await {
            pass.failed(id, &e);
        }
    }
    // Then down, from where the last pass stopped.
    let key = cursor_key(&hub.cfg);
    let mut cursor = state.store.setting(&key).await?.unwrap_or_default();
    loop {
        let path = if cursor.is_empty() {
            "/changes?limit=500".to_string()
        } else {
            format!("/changes?limit=500&cursor={cursor}")
        };
        let page = match hub.get("changes", &path).await {
            Ok(Answer::Done(v)) => v,
            Ok(Answer::Gone) => break,
            Err(e) => {
                pass.failed("changes feed".into(), &e);
                break;
            }
        };
        let items: Vec<Change> = serde_json::from_value(page["items"].clone()).map_err(|e| hub_error("changes", e))?;
        let mut stop = false;
        for c in &items {
            if let Err(e) = take(state, hub, c, &mut pass).await {
                // The cursor stays before this page: the next pass starts
                // here again (what was done is recognised, not redone).
                pass.failed(format!("change {}", c.event_id), &e);
                stop = true;
                break;
            }
        }
        if stop {
            break;
        }
        cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
        state.store.put_setting(&key, &cursor).await?;
        if page["has_more"] != json!(true) {
            break;
        }
    }
    Ok(pass)
}

/// Runs passes until `stop`.
pub async fn run(state: AppState, cfg: HubConfig, mut stop: tokio::sync::watch::Receiver<bool>) {
    let interval = Duration::from_secs(cfg.interval_secs.max(1));
    let hub = Hub::new(cfg);
    loop {
        if *stop.borrow() {
            return;
        }
        match run_once(&state, &hub).await {
            Ok(p) if p != Pass::default() => tracing::info!(?p, "federation pass"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "federation pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
    }
}
