//! `/staf/integrasi`: an institution's integration with its own complaint
//! system: whether it is connected, its API clients and keys (created,
//! rotated with an overlap, revoked), its webhook subscriptions with the
//! delivery log, and replay of dead letters.
//!
//! Who may call what: `Action::ManageIntegration` on the institution, which
//! the national admin holds everywhere and an institution admin within its
//! own subtree; switching an institution's mode needs it on the system
//! (national admin). Everyone else gets 403.

use super::{FormToken, Staff};
use crate::AppState;
use crate::integration::clients;
use crate::web::{error_page, message, render};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use lapor_domain::authz::{Action, Target, authorize};
use lapor_domain::calendar::Zone;
use lapor_domain::institution::Role;
use lapor_domain::{Error, ErrorCode};
use lapor_integration::client::Scope;
use lapor_store::ts::Ts;
use lapor_store::{ApiClient, ApiKeyInfo, WebhookDelivery, WebhookSubscription};

type FormResult<T> = Result<Form<T>, axum::extract::rejection::FormRejection>;

fn when(t: DateTime<Utc>) -> String {
    t.with_timezone(&Zone::Wib.offset())
        .format("%Y-%m-%d %H:%M WIB")
        .to_string()
}

/// Institutions the user may manage the integration of, for the picker.
fn own_institutions(s: &Staff) -> Vec<String> {
    s.institutions(&[Role::InstitutionAdmin])
}

async fn may_manage(st: &AppState, s: &Staff, code: &str) -> Result<(), Error> {
    let path = st.store.institution_path(code).await?;
    if path.is_empty() {
        return Err(Error::with(ErrorCode::UnknownInstitution, code.to_string()));
    }
    if authorize(s.principal(), Action::ManageIntegration, &Target::Institution(&path)) {
        Ok(())
    } else {
        Err(Error::forbidden())
    }
}

struct ClientRow {
    client: ApiClient,
    created: String,
    keys: Vec<(ApiKeyInfo, String, String)>,
}

struct DeliveryRow {
    d: WebhookDelivery,
    created: String,
    next: String,
}

struct SubscriptionRow {
    sub: WebhookSubscription,
    created: String,
    deliveries: Vec<DeliveryRow>,
    dead: usize,
}

#[derive(Template)]
#[template(path = "staff/integration.html")]
struct Page<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    form: String,
    choices: Vec<String>,
    national: bool,
    institution: Option<(String, String, String)>,
    clients: Vec<ClientRow>,
    subscriptions: Vec<SubscriptionRow>,
    /// (form field, scope name)
    scopes: Vec<(&'static str, &'static str)>,
    notice: Option<String>,
    secret: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Pick {
    instansi: Option<String>,
}

async fn page(
    st: &AppState,
    s: &Staff,
    code: Option<String>,
    notice: Option<String>,
    secret: Option<String>,
    error: Option<String>,
) -> Response {
    let national = s.may_system(Action::ManageIntegration);
    let choices = own_institutions(s);
    if !national && choices.is_empty() {
        return error_page(&s.c, &Error::forbidden());
    }
    let code = code
        .filter(|c| !c.trim().is_empty())
        .or_else(|| (!national).then(|| choices[0].clone()));
    let mut p = Page {
        s,
        c: &s.c,
        form: FormToken::issue(st, &s.c),
        choices,
        national,
        institution: None,
        clients: vec![],
        subscriptions: vec![],
        scopes: vec![
            ("reports_read", Scope::ReportsRead.as_str()),
            ("reports_write", Scope::ReportsWrite.as_str()),
            ("webhooks", Scope::Webhooks.as_str()),
            ("open311", Scope::Open311.as_str()),
        ],
        notice,
        secret,
        error,
    };
    if let Some(code) = code {
        let res = async {
            may_manage(st, s, &code).await?;
            let name = st.names.institution(st, &code).await?;
            let mode = st.store.integration_mode(&code).await?.unwrap_or_default();
            p.institution = Some((code.clone(), name, mode));
            for client in st.store.api_clients(Some(&code)).await? {
                let keys = st
                    .store
                    .api_keys(&client.id)
                    .await?
                    .into_iter()
                    .map(|k| {
                        let until = k.expires_at.map(when).unwrap_or_default();
                        let used = k.last_used_at.map(when).unwrap_or_default();
                        (k, until, used)
                    })
                    .collect();
                p.clients.push(ClientRow {
                    created: when(client.created_at),
                    client,
                    keys,
                });
            }
            for sub in st.store.subscriptions(Some(&code)).await? {
                let deliveries: Vec<DeliveryRow> = st
                    .store
                    .webhook_deliveries(&sub.id, None, None, 20)
                    .await?
                    .into_iter()
                    .map(|d| DeliveryRow {
                        created: when(d.created_at),
                        next: d.next_attempt_at.map(when).unwrap_or_default(),
                        d,
                    })
                    .collect();
                let dead = st
                    .store
                    .webhook_deliveries(&sub.id, Some("dead"), None, 1000)
                    .await?
                    .len();
                p.subscriptions.push(SubscriptionRow {
                    created: when(sub.created_at),
                    sub,
                    deliveries,
                    dead,
                });
            }
            Ok::<(), Error>(())
        }
        .await;
        if let Err(e) = res {
            return error_page(&s.c, &e);
        }
    }
    render(&s.c, StatusCode::OK, &p)
}

pub async fn show(State(st): State<AppState>, s: Staff, Query(q): Query<Pick>) -> Response {
    page(&st, &s, q.instansi, None, None, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Op {
    csrf: String,
    ft: String,
    op: String,
    institution: String,
    mode: String,
    name: String,
    /// One checkbox per scope (`reports_read`, …), since repeated fields
    /// do not survive form decoding.
    reports_read: Option<String>,
    reports_write: Option<String>,
    webhooks: Option<String>,
    open311: Option<String>,
    client: String,
    overlap_hours: String,
    subscription: String,
    delivery: String,
}

impl super::Posted for Op {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}

/// One change, after the form and the caller's rights are checked. Keys
/// and secrets are shown once, on the page that answers the change.
pub async fn post(State(st): State<AppState>, s: Staff, form: FormResult<Op>) -> Response {
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let code = f.institution.trim().to_string();
    if let Err(e) = may_manage(&st, &s, &code).await {
        return error_page(&s.c, &e);
    }
    let by = Some(s.user.id.as_str());
    let store = st.store.as_ref();
    let tr = |id: &str, en: &str| s.c.tr(id, en).to_string();
    let res: Result<(String, Option<String>), Error> = async {
        match f.op.as_str() {
            "mode" => {
                if !s.may_system(Action::ManageIntegration) {
                    return Err(Error::forbidden());
                }
                clients::set_mode(store, &code, f.mode.trim(), by).await?;
                Ok((tr("Mode integrasi diubah.", "Integration mode changed."), None))
            }
            "create" => {
                let picked = [
                    (&f.reports_read, Scope::ReportsRead),
                    (&f.reports_write, Scope::ReportsWrite),
                    (&f.webhooks, Scope::Webhooks),
                    (&f.open311, Scope::Open311),
                ];
                let scopes: Vec<Scope> = picked.iter().filter(|(on, _)| on.is_some()).map(|(_, s)| *s).collect();
                let created = clients::create(store, &code, &f.name, &scopes, by).await?;
                Ok((
                    tr(
                        &format!(
                            "Klien {} dibuat. Simpan kunci API ini sekarang; kunci tidak ditampilkan lagi.",
                            created.client.id
                        ),
                        &format!(
                            "Client {} created. Keep this API key now; it is not shown again.",
                            created.client.id
                        ),
                    ),
                    Some(created.key),
                ))
            }
            "rotate" => {
                owned_client(&st, &code, &f.client).await?;
                let hours = f
                    .overlap_hours
                    .trim()
                    .parse::<i64>()
                    .unwrap_or(clients::DEFAULT_OVERLAP_HOURS);
                let (key, until) = clients::rotate(store, &f.client, hours).await?;
                Ok((
                    tr(
                        &format!("Kunci baru dibuat. Kunci lama berlaku sampai {}.", when(until)),
                        &format!("New key created. The old keys work until {}.", when(until)),
                    ),
                    Some(key),
                ))
            }
            "revoke" => {
                owned_client(&st, &code, &f.client).await?;
                clients::revoke(store, &f.client, by).await?;
                Ok((
                    tr(
                        "Klien dicabut; kuncinya tidak berlaku lagi.",
                        "Client revoked; its keys no longer work.",
                    ),
                    None,
                ))
            }
            "replay" => {
                let sub = match store.subscription(&f.subscription).await? {
                    Some(x) if x.institution == code => x,
                    _ => return Err(Error::not_found()),
                };
                let ids: Option<Vec<i64>> = match f.delivery.trim() {
                    "" => None,
                    d => Some(vec![d.parse().map_err(|_| Error::validation("delivery"))?]),
                };
                let n = store
                    .replay_webhook_deliveries(&sub.id, ids.as_deref(), Ts::now())
                    .await?;
                Ok((
                    tr(
                        &format!("{n} pengiriman dijadwalkan ulang."),
                        &format!("{n} deliveries queued again."),
                    ),
                    None,
                ))
            }
            _ => Err(Error::validation("op")),
        }
    }
    .await;
    match res {
        Ok((notice, secret)) => page(&st, &s, Some(code), Some(notice), secret, None).await,
        Err(e) if e.code == ErrorCode::Forbidden => error_page(&s.c, &e),
        Err(e) => {
            let msg = message(&s.c, &e);
            page(&st, &s, Some(code), None, None, Some(msg)).await
        }
    }
}

async fn owned_client(st: &AppState, code: &str, id: &str) -> Result<ApiClient, Error> {
    match st.store.api_client(id).await? {
        Some(c) if c.institution == code => Ok(c),
        _ => Err(Error::not_found()),
    }
}
