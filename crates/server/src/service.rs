//! The application service: turns requests into domain commands, checks them
//! with `authorize`, lets the domain decide, and commits the result with its
//! outbox rows in one transaction.

use crate::AppState;
use crate::auth::{Caller, new_id};
use crate::views::{AttachmentView, ReportView, ViewLevel, report_view};
use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
use lapor_domain::authz::{Action, Principal, ReportScope, Target, authorize, identity_read_is_audited};
use lapor_domain::calendar::Calendar;
use lapor_domain::event::{Actor, Event, Submission};
use lapor_domain::ids::{TrackingId, pin_from_random, pin_well_formed};
use lapor_domain::institution::InstitutionKind;
use lapor_domain::lifecycle::{Command, Ctx, InstitutionTarget, apply, decide, submit};
use lapor_domain::report::{
    BODY_MAX, Channel, Classification, Report, TITLE_MAX, Visibility, check_location, check_text,
};
use lapor_domain::rollup;
use lapor_domain::sla::SlaPolicy;
use lapor_domain::{Error, ErrorCode};
use lapor_store::{
    AuditEntry, Change, CreateOutcome, NewAttachment, NewReport, OutboxMessage, ReporterIdentity, StoredReport,
};
use rand::RngCore;
use sha2::Sha256;

/// What a reporter sends to file a report.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReport {
    pub classification: Classification,
    /// For `pengaduan`: whether it needs investigation (berkadar pengawasan).
    #[serde(default)]
    pub needs_investigation: bool,
    pub category: Option<String>,
    #[schema(example = "Jalan berlubang di Jl. Setiabudi")]
    pub title: String,
    pub body: String,
    pub incident_date: Option<NaiveDate>,
    /// Kemendagri region code (province, regency/city, district or village).
    #[schema(example = "32.73.01.1001")]
    pub region_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Hide the reporter's identity from the public and from the institution.
    #[serde(default)]
    pub anonymous: bool,
    /// Do not publish the report at all.
    #[serde(default)]
    pub confidential: bool,
    /// Institution the reporter thinks is competent.
    pub institution: Option<String>,
    /// Contact details (optional; used to send the Tracking ID and updates).
    pub reporter: Option<ReporterContact>,
    /// Channel, when staff enter a report received elsewhere.
    pub channel: Option<Channel>,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReporterContact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SubmitResult {
    #[schema(example = "7KQ4-M2XJ")]
    pub tracking_id: String,
    /// Secret PIN to follow the report without an account. Shown once.
    #[schema(example = "04815162")]
    pub pin: String,
    /// True when this answers a repeated request with the same Idempotency-Key.
    pub duplicate: bool,
    pub report: ReportView,
}

type HmacSha256 = Hmac<Sha256>;

fn keyed_digest(key: &[u8], parts: &[&str]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("hmac accepts any key length");
    for p in parts {
        mac.update(p.as_bytes());
        mac.update(&[0]);
    }
    mac.finalize().into_bytes().into()
}

impl AppState {
    pub fn pin_hash(&self, id: &TrackingId, pin: &str) -> String {
        hex::encode(keyed_digest(&self.pin_key, &["pin", id.as_str(), pin.trim()]))
    }

    fn pin_matches(&self, stored: &StoredReport, pin: &str) -> bool {
        use subtle_eq::ct_eq;
        pin_well_formed(pin)
            && ct_eq(
                self.pin_hash(&stored.report.tracking_id, pin).as_bytes(),
                stored.pin_hash.as_bytes(),
            )
    }

    pub fn policy_for(&self, name: &str) -> &SlaPolicy {
        self.policies
            .iter()
            .find(|p| p.name == name)
            .unwrap_or(&self.policies[0])
    }

    fn ctx<'a>(&'a self, cal: &'a Calendar, actor: Actor, policy: &str, now: DateTime<Utc>) -> Ctx<'a> {
        Ctx {
            now,
            actor,
            calendar: cal,
            policy: self.policy_for(policy),
        }
    }

    /// When the deadline scheduler must next look at `r` (stored with it).
    pub fn wake_at(&self, cal: &Calendar, r: &Report) -> Option<DateTime<Utc>> {
        lapor_domain::sla::timers(r, self.policy_for(&r.policy), cal).next()
    }
}

/// Reference codes seen to exist. Regions, institutions and categories are
/// only ever added or renamed, never removed, so a code once found stays
/// valid; caching the positive answers saves a database round trip on every
/// submission. Unknown codes are always looked up again.
#[derive(Default)]
pub struct KnownCodes {
    regions: std::sync::RwLock<std::collections::HashSet<String>>,
    institutions: std::sync::RwLock<std::collections::HashSet<String>>,
    categories: std::sync::RwLock<std::collections::HashSet<String>>,
}

/// Bound on cached codes (all 83,762 villages fit; a flood of junk cannot
/// grow it, since only codes that exist are cached).
const KNOWN_MAX: usize = 200_000;

fn cached(set: &std::sync::RwLock<std::collections::HashSet<String>>, code: &str) -> bool {
    set.read().map(|s| s.contains(code)).unwrap_or(false)
}

fn remember(set: &std::sync::RwLock<std::collections::HashSet<String>>, code: &str) {
    if let Ok(mut s) = set.write()
        && s.len() < KNOWN_MAX
    {
        s.insert(code.to_string());
    }
}

/// Answers from the cache, or runs `lookup` and caches a positive answer.
async fn known(
    set: &std::sync::RwLock<std::collections::HashSet<String>>,
    code: &str,
    lookup: impl std::future::Future<Output = Result<bool, Error>>,
) -> Result<bool, Error> {
    if cached(set, code) {
        return Ok(true);
    }
    let found = lookup.await?;
    if found {
        remember(set, code);
    }
    Ok(found)
}

impl KnownCodes {
    pub async fn region_exists(&self, state: &AppState, code: &str) -> Result<bool, Error> {
        known(&self.regions, code, async {
            Ok(state.store.region(code).await?.is_some())
        })
        .await
    }

    /// An institution that can be assigned reports (not the national operator).
    pub async fn handling_institution_exists(&self, state: &AppState, code: &str) -> Result<bool, Error> {
        known(&self.institutions, code, async {
            Ok(matches!(state.store.institution(code).await?, Some(i) if i.kind != InstitutionKind::NationalOperator))
        })
        .await
    }

    pub async fn category_exists(&self, state: &AppState, code: &str) -> Result<bool, Error> {
        known(&self.categories, code, async {
            Ok(state.store.categories().await?.iter().any(|k| k.code == code))
        })
        .await
    }
}

pub(crate) mod subtle_eq {
    /// Constant-time comparison, so PIN checks leak no timing.
    pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

pub fn valid_email(e: &str) -> bool {
    let e = e.trim();
    e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
        && !e.contains(char::is_whitespace)
}

/// Normalises an Indonesian phone number to +62… or fails.
pub fn normalize_phone(p: &str) -> Option<String> {
    let digits: String = p.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
    let rest = digits
        .strip_prefix("+62")
        .or_else(|| digits.strip_prefix("62"))
        .or_else(|| digits.strip_prefix('0'))?;
    (rest.len() >= 8 && rest.len() <= 13 && rest.bytes().all(|b| b.is_ascii_digit())).then(|| format!("+62{rest}"))
}

fn random_u64() -> u64 {
    rand::rng().next_u64()
}

/// The staff membership (role, institution) under which `action` is allowed.
fn acting_as(caller: &Caller, action: Action, target: &Target<'_>) -> Actor {
    match &caller.principal {
        Principal::Staff { user_id, memberships } => {
            let m = memberships
                .iter()
                .find(|m| {
                    let single = Principal::Staff {
                        user_id: user_id.clone(),
                        memberships: vec![(*m).clone()],
                    };
                    authorize(&single, action, target)
                })
                .or(memberships.first());
            match m {
                Some(m) => Actor::Staff {
                    user_id: user_id.clone(),
                    role: m.role,
                    institution: m.institution.clone(),
                },
                None => Actor::System,
            }
        }
        Principal::Reporter { reporter_id } => Actor::Reporter {
            reporter_id: Some(reporter_id.clone()),
        },
        Principal::PinHolder { .. } | Principal::Public => Actor::Reporter { reporter_id: None },
        Principal::System => Actor::System,
    }
}

/// A loaded report with everything authorization needs.
struct Loaded {
    stored: StoredReport,
    institution_path: Vec<String>,
    unit_path: Vec<String>,
}

impl Loaded {
    fn scope(&self) -> ReportScope<'_> {
        let r = &self.stored.report;
        ReportScope {
            tracking_id: &r.tracking_id,
            reporter_id: r.reporter_id.as_deref(),
            anonymous: r.anonymous,
            is_public: r.is_public(),
            institution_path: &self.institution_path,
            unit_path: &self.unit_path,
        }
    }
}

/// Codes from the root down to the report's institution and unit.
async fn paths(state: &AppState, r: &Report) -> Result<(Vec<String>, Vec<String>), Error> {
    let path = |code: &Option<String>| {
        let code = code.clone();
        async move {
            match code {
                Some(c) => state.store.institution_path(&c).await,
                None => Ok(Vec::new()),
            }
        }
    };
    Ok((path(&r.institution).await?, path(&r.unit).await?))
}

async fn load(state: &AppState, id: &str) -> Result<Loaded, Error> {
    let tid = TrackingId::parse(id).map_err(|_| Error::not_found())?;
    let stored = state.store.report(&tid).await?.ok_or_else(Error::not_found)?;
    let (institution_path, unit_path) = paths(state, &stored.report).await?;
    Ok(Loaded {
        stored,
        institution_path,
        unit_path,
    })
}

/// The report, if `institution` holds it: it is assigned to it or to a
/// unit below it. Anything else is answered as not found, so a connected
/// system learns nothing about reports it does not hold.
pub async fn held_by(state: &AppState, id: &str, institution: &str) -> Result<Report, Error> {
    let loaded = load(state, id).await?;
    let holds = loaded.institution_path.last().map(String::as_str) == Some(institution)
        || loaded.unit_path.iter().any(|c| c == institution);
    if holds {
        Ok(loaded.stored.report)
    } else {
        Err(Error::not_found())
    }
}

/// The caller's principal for one report: a correct PIN makes the caller a
/// PIN holder; a wrong one is answered exactly like a missing report.
fn principal_for(state: &AppState, caller: &Caller, loaded: &Loaded, pin: Option<&str>) -> Result<Principal, Error> {
    match pin {
        Some(p) if state.pin_matches(&loaded.stored, p) => Ok(Principal::PinHolder {
            tracking_id: loaded.stored.report.tracking_id.clone(),
        }),
        Some(_) => Err(Error::not_found()),
        None => Ok(caller.principal.clone()),
    }
}

/// Loads a report and resolves the caller, counting PIN failures: after
/// `PIN_FAILURES_ALLOWED` wrong PINs (or lookups of a missing report with a
/// PIN) for one Tracking ID within `PIN_WINDOW`, further PIN attempts on it
/// are refused with 429 until the window passes. Missing reports and wrong
/// PINs count alike, so the limit reveals nothing about existence.
async fn load_for(
    state: &AppState,
    caller: &Caller,
    id: &str,
    pin: Option<&str>,
) -> Result<(Loaded, Principal), Error> {
    let key = TrackingId::parse(id)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| id.trim().to_uppercase());
    if pin.is_some() {
        state.pin_guard.check(&key)?;
    }
    let res = match load(state, id).await {
        Ok(loaded) => principal_for(state, caller, &loaded, pin).map(|p| (loaded, p)),
        Err(e) => Err(e),
    };
    if pin.is_some() && matches!(&res, Err(e) if e.code == ErrorCode::NotFound) {
        state.pin_guard.fail(&key);
    }
    res
}

pub const PIN_FAILURES_ALLOWED: u32 = 10;
pub const PIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Failed PIN attempts per Tracking ID, kept in memory on each node.
#[derive(Default)]
pub struct PinGuard {
    failures: std::sync::Mutex<std::collections::HashMap<String, (u32, std::time::Instant)>>,
}

impl PinGuard {
    fn check(&self, key: &str) -> Result<(), Error> {
        let map = self
            .failures
            .lock()
            .map_err(|_| Error::internal("pin guard poisoned"))?;
        match map.get(key) {
            Some((n, since)) if *n >= PIN_FAILURES_ALLOWED && since.elapsed() < PIN_WINDOW => {
                Err(Error::with(ErrorCode::RateLimited, "pin"))
            }
            _ => Ok(()),
        }
    }

    fn fail(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            // Bounded: forget expired entries when the table grows large.
            if map.len() > 100_000 {
                map.retain(|_, (_, since)| since.elapsed() < PIN_WINDOW);
            }
            let e = map.entry(key.to_string()).or_insert((0, std::time::Instant::now()));
            if e.1.elapsed() >= PIN_WINDOW {
                *e = (0, std::time::Instant::now());
            }
            e.0 += 1;
        }
    }
}

fn view_level(p: &Principal, scope: &Target<'_>) -> Option<ViewLevel> {
    if authorize(p, Action::ReadInternal, scope) {
        Some(ViewLevel::Staff)
    } else if authorize(p, Action::ReadAsReporter, scope) {
        Some(ViewLevel::Reporter)
    } else if authorize(p, Action::ReadPublic, scope) {
        Some(ViewLevel::Public)
    } else {
        None
    }
}

/// How a submission arrived, beyond its JSON fields.
#[derive(Debug, Clone)]
pub struct Intake {
    /// Retries with the same key get the same report and PIN.
    pub idempotency_key: Option<String>,
    /// Files already sniffed and cleaned (`lapor_domain::media::clean`).
    pub attachments: Vec<NewAttachment>,
    /// The channel a citizen used (staff name theirs in the request).
    pub via: Channel,
    /// Staff filing for a reporter Lapor already knows (a message from the
    /// channels' handler inbox): the report is theirs, so answers reach them.
    pub for_reporter: Option<String>,
}

impl Intake {
    pub fn api(idempotency_key: Option<String>) -> Intake {
        Intake {
            idempotency_key,
            attachments: Vec::new(),
            via: Channel::Api,
            for_reporter: None,
        }
    }
}

pub async fn submit_report(
    state: &AppState,
    caller: &Caller,
    req: SubmitReport,
    intake: Intake,
) -> Result<SubmitResult, Error> {
    let Intake {
        idempotency_key,
        attachments,
        via,
        for_reporter,
    } = intake;
    if attachments.len() > lapor_domain::media::MAX_FILES {
        return Err(Error::new(ErrorCode::TooManyFiles));
    }
    let now = Utc::now();
    let title = check_text("title", &req.title, 5, TITLE_MAX)?;
    let body = check_text("body", &req.body, 10, BODY_MAX)?;
    check_location(req.latitude, req.longitude)?;
    if let Some(d) = req.incident_date {
        let today = now.date_naive();
        if d > today + chrono::Duration::days(1) || d < NaiveDate::from_ymd_opt(1945, 8, 17).unwrap_or(d) {
            return Err(Error::validation(
                "incident_date: tanggal tidak masuk akal / implausible date",
            ));
        }
    }
    if let Some(code) = &req.region_code
        && !state.known.region_exists(state, code).await?
    {
        return Err(Error::with(ErrorCode::UnknownRegion, code.clone()));
    }
    if let Some(code) = &req.institution
        && !state.known.handling_institution_exists(state, code).await?
    {
        return Err(Error::with(ErrorCode::UnknownInstitution, code.clone()));
    }
    if let Some(c) = &req.category
        && !state.known.category_exists(state, c).await?
    {
        return Err(Error::with(ErrorCode::UnknownCategory, c.clone()));
    }
    if let Some(k) = &idempotency_key
        && (k.is_empty() || k.len() > 200 || !k.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(Error::validation("Idempotency-Key: 1-200 visible ASCII characters"));
    }
    // Contact details are checked and normalised before anything is stored.
    let contact = match &req.reporter {
        Some(c) => {
            let name = c
                .name
                .as_deref()
                .map(|n| check_text("reporter.name", n, 1, 200))
                .transpose()?;
            let email = match c.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
                Some(e) if valid_email(e) => Some(e.to_lowercase()),
                Some(_) => return Err(Error::validation("reporter.email")),
                None => None,
            };
            let phone = match c.phone.as_deref().filter(|p| !p.trim().is_empty()) {
                Some(p) => Some(normalize_phone(p).ok_or_else(|| Error::validation("reporter.phone"))?),
                None => None,
            };
            Some((name, email, phone))
        }
        None => None,
    };

    let (reporter_id, new_reporter, channel) = match &caller.principal {
        Principal::Staff { .. } => {
            if !authorize(&caller.principal, Action::SubmitOnBehalf, &Target::System) {
                return Err(Error::forbidden());
            }
            let rep = match &for_reporter {
                Some(_) => None,
                None => contact.as_ref().map(|(name, email, phone)| ReporterIdentity {
                    id: new_id("r-"),
                    user_id: None,
                    name: name.clone(),
                    email: email.clone(),
                    phone: phone.clone(),
                }),
            };
            (
                for_reporter.or_else(|| rep.as_ref().map(|r| r.id.clone())),
                rep,
                req.channel.unwrap_or(Channel::Staff),
            )
        }
        Principal::Reporter { reporter_id } => {
            crate::throttle::account_submission(state, reporter_id)?;
            (Some(reporter_id.clone()), None, via)
        }
        _ => {
            let rep = contact
                .as_ref()
                .filter(|(n, e, p)| n.is_some() || e.is_some() || p.is_some())
                .map(|(name, email, phone)| ReporterIdentity {
                    id: new_id("r-"),
                    user_id: None,
                    name: name.clone(),
                    email: email.clone(),
                    phone: phone.clone(),
                });
            (rep.as_ref().map(|r| r.id.clone()), rep, via)
        }
    };
    let notify_to = match (&contact, &caller.user) {
        (Some((_, email, phone)), _) if email.is_some() || phone.is_some() => {
            Some(serde_json::json!({ "email": email, "phone": phone }))
        }
        (_, Some(u)) if !u.is_staff => Some(serde_json::json!({ "email": u.email, "phone": u.phone })),
        _ => None,
    };

    // With an idempotency key the PIN is derived from it, so a retried
    // request gets the same answer as the first one.
    let pin = match &idempotency_key {
        Some(k) => {
            let d = keyed_digest(&state.pin_key, &["idem-pin", k]);
            pin_from_random(u64::from_le_bytes(d[..8].try_into().unwrap_or_default()))
        }
        None => pin_from_random(random_u64()),
    };
    let policy = state.policy_for(&state.policies[0].name).clone();
    let mut last_err = None;
    for _ in 0..4 {
        let tid = TrackingId::from_random(random_u64());
        let submission = Submission {
            classification: req.classification,
            needs_investigation: req.needs_investigation,
            category: req.category.clone(),
            title: title.clone(),
            body: body.clone(),
            incident_date: req.incident_date,
            region_code: req.region_code.clone(),
            latitude: req.latitude,
            longitude: req.longitude,
            anonymous: req.anonymous,
            confidential: req.confidential,
            channel,
            reporter_id: reporter_id.clone(),
            suggested_institution: req.institution.clone(),
            policy: policy.name.clone(),
            zone: state.national_zone,
        };
        let actor = acting_as(caller, Action::Submit, &Target::System);
        let cal = state.calendar.get();
        let event = submit(tid.clone(), submission, &state.ctx(&cal, actor, &policy.name, now));
        let report = apply(None, &event)?;
        let wake_at = state.wake_at(&cal, &report);
        let mut outbox = vec![OutboxMessage {
            topic: "report.submitted".into(),
            key: format!("{tid}:1"),
            payload: serde_json::json!({ "tracking_id": tid.as_str(), "seq": 1 }),
        }];
        if let Some(to) = &notify_to {
            outbox.push(OutboxMessage {
                topic: "notify.reporter.receipt".into(),
                key: format!("{tid}:receipt"),
                // The PIN must reach the reporter; the delivery worker
                // scrubs it from the payload once sent.
                payload: serde_json::json!({ "tracking_id": tid.as_str(), "pin": pin, "to": to, "lang": caller.lang }),
            });
        }
        let new = NewReport {
            pin_hash: state.pin_hash(&tid, &pin),
            report: report.clone(),
            event: event.clone(),
            new_reporter: new_reporter.clone(),
            outbox,
            idempotency_key: idempotency_key.clone(),
            attachments: attachments.clone(),
            wake_at,
        };
        match state.store.create_report(&new).await {
            Ok(CreateOutcome::Created) => {
                let level = if matches!(caller.principal, Principal::Staff { .. }) {
                    ViewLevel::Staff
                } else {
                    ViewLevel::Reporter
                };
                return Ok(SubmitResult {
                    tracking_id: tid.to_string(),
                    pin,
                    duplicate: false,
                    report: report_view(&report, level, None, now),
                });
            }
            Ok(CreateOutcome::Duplicate(existing)) => {
                let stored = state.store.report(&existing).await?.ok_or_else(Error::not_found)?;
                return Ok(SubmitResult {
                    tracking_id: existing.to_string(),
                    pin,
                    duplicate: true,
                    report: report_view(&stored.report, ViewLevel::Reporter, None, now),
                });
            }
            // A Tracking ID collision (or a racing twin request): try again;
            // the twin will then be found by its idempotency key.
            Err(e) if e.code == ErrorCode::Conflict => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| Error::internal("could not allocate a tracking id")))
}

pub async fn get_report(state: &AppState, caller: &Caller, id: &str, pin: Option<&str>) -> Result<ReportView, Error> {
    let (loaded, principal) = load_for(state, caller, id, pin).await?;
    let target = Target::Report(loaded.scope());
    // Anything the caller may not read is answered like a missing report.
    let level = view_level(&principal, &target).ok_or_else(Error::not_found)?;
    let events = state.store.events(&loaded.stored.report.tracking_id).await?;
    let mut view = report_view(&loaded.stored.report, level, Some(&events), Utc::now());
    if level != ViewLevel::Public {
        let files = state.store.attachments(&loaded.stored.report.tracking_id).await?;
        view.attachments = Some(files.iter().map(AttachmentView::from).collect());
    }
    Ok(view)
}

/// One attachment's bytes, for whoever may read its report beyond the
/// public view (the reporter, by account or PIN, and staff it concerns).
/// Anything else is answered like a missing file.
pub async fn read_attachment(
    state: &AppState,
    caller: &Caller,
    id: &str,
    pin: Option<&str>,
) -> Result<(lapor_store::AttachmentMeta, Vec<u8>), Error> {
    let (meta, data) = state.store.attachment(id).await?.ok_or_else(Error::not_found)?;
    may_read_files(state, caller, &meta.tracking_id, pin).await?;
    Ok((meta, data))
}

/// Whether the caller reads this report beyond its public view, which is
/// what reading its files takes.
pub async fn may_read_files(
    state: &AppState,
    caller: &Caller,
    tracking_id: &str,
    pin: Option<&str>,
) -> Result<(), Error> {
    // The view level alone decides: no events or file list are read.
    let level = match load_for(state, caller, tracking_id, pin).await {
        Ok((loaded, principal)) => view_level(&principal, &Target::Report(loaded.scope())),
        Err(e) if e.code == ErrorCode::RateLimited => return Err(e),
        Err(_) => None,
    };
    match level {
        Some(ViewLevel::Staff | ViewLevel::Reporter) => Ok(()),
        _ => Err(Error::not_found()),
    }
}

/// Reporter identity, for callers allowed to see it. Reads of an anonymous
/// reporter's identity are written to the audit log before the answer.
pub async fn get_reporter(
    state: &AppState,
    caller: &Caller,
    id: &str,
    pin: Option<&str>,
) -> Result<Option<ReporterIdentity>, Error> {
    let (loaded, principal) = load_for(state, caller, id, pin).await?;
    let target = Target::Report(loaded.scope());
    if !authorize(&principal, Action::ReadReporterIdentity, &target) {
        return Err(if view_level(&principal, &target).is_some() {
            Error::forbidden()
        } else {
            Error::not_found()
        });
    }
    let Some(rid) = &loaded.stored.report.reporter_id else {
        return Ok(None);
    };
    if identity_read_is_audited(&principal, &loaded.scope()) {
        state
            .store
            .write_audit(&AuditEntry {
                at: Utc::now(),
                user_id: caller.user.as_ref().map(|u| u.id.clone()),
                action: "read_anonymous_identity".into(),
                target: loaded.stored.report.tracking_id.to_string(),
                detail: None,
            })
            .await?;
    }
    state.store.reporter(rid).await
}

/// A lifecycle action as requested over HTTP, before lookups.
#[derive(Debug, Clone)]
pub enum ActionRequest {
    Disposition {
        institution: String,
        classification: Option<Classification>,
        needs_investigation: Option<bool>,
        category: Option<String>,
        note: Option<String>,
    },
    Hold {
        message: String,
    },
    Resume {
        note: Option<String>,
    },
    Accept {
        note: Option<String>,
    },
    DispositionUnit {
        unit: String,
        note: Option<String>,
    },
    Transfer {
        institution: String,
        reason: String,
    },
    FollowUp {
        body: String,
        /// An internal note committed with the follow-up (same transaction).
        note: Option<String>,
    },
    Reply {
        body: String,
    },
    Rate {
        rating: u8,
        comment: Option<String>,
    },
    Complete {
        note: Option<String>,
    },
    Archive {
        reason: lapor_domain::report::ArchiveReason,
        note: Option<String>,
    },
    Merge {
        into: String,
    },
    Reopen {
        reason: String,
    },
    Edit {
        title: Option<String>,
        body: Option<String>,
        classification: Option<Classification>,
        needs_investigation: Option<bool>,
        category: Option<String>,
    },
    SetPrivacy {
        anonymous: bool,
        confidential: bool,
    },
    Redact,
    AddNote {
        body: String,
    },
    RequestExtension {
        reason: String,
    },
    AssignLiaison {
        user_id: String,
    },
    /// The reporter accepts the offer to take the report to the Ombudsman.
    EscalateToOmbudsman {
        note: Option<String>,
    },
}

impl ActionRequest {
    pub fn action(&self) -> Action {
        match self {
            ActionRequest::Disposition { .. } => Action::Disposition,
            ActionRequest::Hold { .. } => Action::Hold,
            ActionRequest::Resume { .. } => Action::Resume,
            ActionRequest::Accept { .. } => Action::Accept,
            ActionRequest::DispositionUnit { .. } => Action::DispositionToUnit,
            ActionRequest::Transfer { .. } => Action::Transfer,
            ActionRequest::FollowUp { .. } => Action::FollowUp,
            ActionRequest::Reply { .. } => Action::Reply,
            ActionRequest::Rate { .. } => Action::Rate,
            ActionRequest::Complete { .. } => Action::Complete,
            ActionRequest::Archive { .. } => Action::Archive,
            ActionRequest::Merge { .. } => Action::Merge,
            ActionRequest::Reopen { .. } => Action::Reopen,
            ActionRequest::Edit { .. } => Action::Edit,
            ActionRequest::SetPrivacy { .. } => Action::SetPrivacy,
            ActionRequest::Redact => Action::Redact,
            ActionRequest::AddNote { .. } => Action::AddNote,
            ActionRequest::RequestExtension { .. } => Action::RequestExtension,
            ActionRequest::AssignLiaison { .. } => Action::AssignLiaison,
            ActionRequest::EscalateToOmbudsman { .. } => Action::EscalateToOmbudsman,
        }
    }
}

async fn institution_target(state: &AppState, code: &str) -> Result<InstitutionTarget, Error> {
    let inst = state
        .store
        .institution(code)
        .await?
        .ok_or_else(|| Error::with(ErrorCode::UnknownInstitution, code.to_string()))?;
    let mut ancestors = state.store.institution_path(code).await?;
    ancestors.pop();
    Ok(InstitutionTarget {
        code: inst.code,
        kind: inst.kind,
        zone: inst.zone,
        ancestors,
    })
}

async fn known_category(state: &AppState, category: &Option<String>) -> Result<(), Error> {
    if let Some(c) = category
        && !state.known.category_exists(state, c).await?
    {
        return Err(Error::with(ErrorCode::UnknownCategory, c.clone()));
    }
    Ok(())
}

/// A liaison may be named only from the staff of the institution or unit
/// that holds the report.
async fn check_liaison(state: &AppState, loaded: &Loaded, user_id: &str) -> Result<(), Error> {
    let bad = || Error::validation("liaison: bukan petugas penghubung instansi ini / not a liaison officer here");
    let user = state.store.user(user_id).await?.ok_or_else(bad)?;
    let r = &loaded.stored.report;
    let holders = [r.institution.as_deref(), r.unit.as_deref()];
    let ok = user
        .memberships
        .iter()
        .any(|m| m.role == lapor_domain::institution::Role::Liaison && holders.contains(&Some(m.institution.as_str())));
    if ok { Ok(()) } else { Err(bad()) }
}

async fn to_command(state: &AppState, loaded: &Loaded, req: ActionRequest) -> Result<Command, Error> {
    Ok(match req {
        ActionRequest::Disposition {
            institution,
            classification,
            needs_investigation,
            category,
            note,
        } => {
            known_category(state, &category).await?;
            Command::Disposition {
                to: institution_target(state, &institution).await?,
                classification,
                needs_investigation,
                category,
                note,
            }
        }
        ActionRequest::Hold { message } => Command::PutOnHold { message },
        ActionRequest::Resume { note } => Command::Resume { note },
        ActionRequest::Accept { note } => Command::Accept { note },
        ActionRequest::DispositionUnit { unit, note } => Command::DispositionToUnit {
            unit: institution_target(state, &unit).await?,
            note,
        },
        ActionRequest::Transfer { institution, reason } => Command::Transfer {
            to: institution_target(state, &institution).await?,
            reason,
        },
        ActionRequest::FollowUp { body, .. } => Command::FollowUp { body },
        ActionRequest::Reply { body } => Command::Reply { body },
        ActionRequest::Rate { rating, comment } => Command::Rate { rating, comment },
        ActionRequest::Complete { note } => Command::Complete { note },
        ActionRequest::Archive { reason, note } => Command::Archive { reason, note },
        ActionRequest::Merge { into } => {
            let tid = TrackingId::parse(&into)
                .map_err(|_| Error::validation("into: Tracking ID tidak dikenal / unknown Tracking ID"))?;
            let target = state
                .store
                .report(&tid)
                .await?
                .ok_or_else(|| Error::validation("into: Tracking ID tidak dikenal / unknown Tracking ID"))?;
            Command::Merge {
                into: tid,
                into_status: target.report.status,
            }
        }
        ActionRequest::Reopen { reason } => Command::Reopen { reason },
        ActionRequest::Edit {
            title,
            body,
            classification,
            needs_investigation,
            category,
        } => {
            known_category(state, &category).await?;
            Command::Edit {
                title,
                body,
                classification,
                needs_investigation,
                category,
            }
        }
        ActionRequest::SetPrivacy {
            anonymous,
            confidential,
        } => Command::SetPrivacy {
            anonymous,
            confidential,
        },
        ActionRequest::Redact => Command::Redact,
        ActionRequest::AddNote { body } => Command::AddNote { body },
        ActionRequest::RequestExtension { reason } => Command::RequestExtension { reason },
        ActionRequest::AssignLiaison { user_id } => {
            check_liaison(state, loaded, &user_id).await?;
            Command::AssignLiaison { user_id }
        }
        ActionRequest::EscalateToOmbudsman { note } => Command::EscalateToOmbudsman { note },
    })
}

/// Adds an internal note as the system (news from a connected system).
/// Returns whether a note was added: false when the report cannot take one.
pub async fn note_as_system(state: &AppState, id: &str, body: String) -> Result<bool, Error> {
    let system = Caller::system(lapor_domain::Lang::Id);
    match act(state, &system, id, None, ActionRequest::AddNote { body }, None).await {
        Ok(_) => Ok(true),
        Err(e) if e.code == ErrorCode::TransitionNotAllowed => Ok(false),
        Err(e) => Err(e),
    }
}

/// Runs one lifecycle action and returns the report as the caller now sees it.
pub async fn act(
    state: &AppState,
    caller: &Caller,
    id: &str,
    pin: Option<&str>,
    req: ActionRequest,
    expected_version: Option<i64>,
) -> Result<ReportView, Error> {
    act_with_files(state, caller, id, pin, req, expected_version, Vec::new()).await
}

/// `act`, with files that go with the event (a follow-up's attachments).
/// Staff actions are also written to the audit log, in the same commit.
pub async fn act_with_files(
    state: &AppState,
    caller: &Caller,
    id: &str,
    pin: Option<&str>,
    req: ActionRequest,
    expected_version: Option<i64>,
    files: Vec<NewAttachment>,
) -> Result<ReportView, Error> {
    act_keyed(state, caller, id, pin, req, expected_version, files, None).await
}

/// `act_with_files` under the sender's own id for the action: a resend
/// with the same key fails with `conflict` / `duplicate_action` and
/// changes nothing (see `lapor_store::Change::idempotency_key`).
#[allow(clippy::too_many_arguments)]
pub async fn act_keyed(
    state: &AppState,
    caller: &Caller,
    id: &str,
    pin: Option<&str>,
    req: ActionRequest,
    expected_version: Option<i64>,
    files: Vec<NewAttachment>,
    idempotency_key: Option<String>,
) -> Result<ReportView, Error> {
    if files.len() > lapor_domain::media::MAX_FILES {
        return Err(Error::new(ErrorCode::TooManyFiles));
    }
    let (loaded, principal) = load_for(state, caller, id, pin).await?;
    let action = req.action();
    let target = Target::Report(loaded.scope());
    if !authorize(&principal, action, &target) {
        // Do not reveal that a report exists to someone who may not read it.
        return Err(match view_level(&principal, &target) {
            Some(_) => Error::forbidden(),
            None => Error::not_found(),
        });
    }
    let report = &loaded.stored.report;
    if let Some(v) = expected_version
        && v != report.version
    {
        return Err(Error::with(
            ErrorCode::StaleVersion,
            format!("current version {}", report.version),
        ));
    }
    if !files.is_empty() && !matches!(req, ActionRequest::FollowUp { .. }) {
        return Err(Error::validation(
            "files: hanya untuk tindak lanjut / only with a follow-up",
        ));
    }
    let note = match &req {
        ActionRequest::FollowUp { note: Some(n), .. } if !n.trim().is_empty() => Some(n.clone()),
        _ => None,
    };
    if note.is_some() && !authorize(&principal, Action::AddNote, &target) {
        return Err(Error::forbidden());
    }
    let command = to_command(state, &loaded, req).await?;
    let caller_for_actor = Caller {
        principal: principal.clone(),
        user: caller.user.clone(),
        lang: caller.lang,
    };
    let actor = acting_as(&caller_for_actor, action, &target);
    let now = Utc::now();
    let cal = state.calendar.get();
    let event = decide(report, &command, &state.ctx(&cal, actor, &report.policy, now))?;
    let mut next = apply(Some(report.clone()), &event)?;
    let mut outbox = outbox_for(&next, &event);
    let mut events = vec![event];
    if let Some(body) = note {
        let noted = decide(
            &next,
            &Command::AddNote { body },
            &state.ctx(
                &cal,
                acting_as(&caller_for_actor, Action::AddNote, &target),
                &report.policy,
                now,
            ),
        )?;
        next = apply(Some(next), &noted)?;
        outbox.extend(outbox_for(&next, &noted));
        events.push(noted);
    }
    let event = &events[0];
    let audit = match &event.actor {
        Actor::Staff { user_id, .. } => vec![AuditEntry {
            at: now,
            user_id: Some(user_id.clone()),
            action: format!("report.{}", event.data.kind()),
            target: next.tracking_id.to_string(),
            detail: Some(match (&event.from_institution, &event.to_institution) {
                (from, to) if from != to => format!(
                    "{} → {}; {} → {}",
                    report.status,
                    next.status,
                    from.as_deref().unwrap_or("-"),
                    to.as_deref().unwrap_or("-")
                ),
                _ => format!("{} → {}", report.status, next.status),
            }),
        }],
        _ => vec![],
    };
    let reindex = next.title != report.title || next.body != report.body;
    let rollup = rollup_of(state, report, &events, &cal).await?;
    state
        .store
        .append(&Change {
            expected_version: report.version,
            report: next.clone(),
            events,
            outbox,
            audit,
            attachments: files,
            reindex,
            wake_at: state.wake_at(&cal, &next),
            idempotency_key,
            rollup,
        })
        .await?;
    let events = state.store.events(&next.tracking_id).await?;
    // Paths change only when the report moved to another institution or unit.
    let (institution_path, unit_path) = if next.institution == report.institution && next.unit == report.unit {
        (loaded.institution_path.clone(), loaded.unit_path.clone())
    } else {
        paths(state, &next).await?
    };
    let new_loaded = Loaded {
        institution_path,
        unit_path,
        stored: StoredReport {
            report: next,
            pin_hash: loaded.stored.pin_hash.clone(),
        },
    };
    // After a transfer the acting institution may no longer read it
    // internally; show what it may still see.
    let level = view_level(&principal, &Target::Report(new_loaded.scope())).unwrap_or(ViewLevel::Public);
    Ok(report_view(&new_loaded.stored.report, level, Some(&events), now))
}

/// What `events`, about to follow `report`'s history, add to the dashboards'
/// rollups (decision 0016). A history read after a concurrent change is cut
/// at the report's version; the append then fails as stale anyway.
pub(crate) async fn rollup_of(
    state: &AppState,
    report: &Report,
    events: &[Event],
    cal: &Calendar,
) -> Result<Vec<(rollup::Cell, rollup::Counters)>, Error> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut history = state.store.events(&report.tracking_id).await?;
    history.retain(|e| e.seq <= report.version);
    Ok(rollup::contributions(&history, events, cal))
}

/// Messages that leave the system because of an event: every event goes to
/// integrations; events the reporter may see also notify the reporter.
pub(crate) fn outbox_for(r: &Report, e: &Event) -> Vec<OutboxMessage> {
    let mut out = vec![OutboxMessage {
        topic: format!("report.{}", e.data.kind()),
        key: format!("{}:{}", r.tracking_id, e.seq),
        payload: serde_json::json!({ "tracking_id": r.tracking_id.as_str(), "seq": e.seq, "status": r.status.as_str(), "institution": r.institution }),
    }];
    if e.visibility != Visibility::Internal && r.reporter_id.is_some() && !matches!(e.actor, Actor::Reporter { .. }) {
        out.push(OutboxMessage {
            topic: "notify.reporter.update".into(),
            key: format!("{}:{}:reporter", r.tracking_id, e.seq),
            payload: serde_json::json!({ "tracking_id": r.tracking_id.as_str(), "seq": e.seq, "reporter_id": r.reporter_id, "status": r.status.as_str() }),
        });
    }
    out
}

/// A report as the workspace handles it: the staff view, the state, and
/// the actions the caller's roles allow on it (the status decides the rest).
pub struct Handling {
    pub view: ReportView,
    pub report: Report,
    pub events: Vec<Event>,
    pub allowed: Vec<Action>,
}

pub async fn for_handling(state: &AppState, caller: &Caller, id: &str) -> Result<Handling, Error> {
    let (loaded, principal) = load_for(state, caller, id, None).await?;
    let target = Target::Report(loaded.scope());
    if !authorize(&principal, Action::ReadInternal, &target) {
        return Err(Error::not_found());
    }
    let allowed = Action::ALL
        .iter()
        .copied()
        .filter(|a| authorize(&principal, *a, &target))
        .collect();
    let events = state.store.events(&loaded.stored.report.tracking_id).await?;
    Ok(Handling {
        view: report_view(&loaded.stored.report, ViewLevel::Staff, Some(&events), Utc::now()),
        report: loaded.stored.report,
        events,
        allowed,
    })
}
