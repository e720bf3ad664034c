//! The chat and social channels' handler inbox: messages that did not
//! become a report (tweets without `#LAPOR`, chats abandoned midway, SMS
//! that fit no form). A verifier turns one into a report, filed for the
//! sender's reporter so answers go back on the same channel, with the
//! message kept as the inbox item the report came from; or dismisses it.
//! Also the block list the channels check before anything else.
//!
//! Who may call what: national admins (the verifiers) only, through
//! `Action::HandleChannelInbox`; everyone else gets 403.

use super::{FormToken, Staff};
use crate::AppState;
use crate::channels::turn::reporter_for;
use crate::service::{self, Intake, SubmitReport};
use crate::web::{error_page, message, render, see_other};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use lapor_channels::Inbound;
use lapor_channels::conversation::{Draft, Input};
use lapor_domain::authz::Action;
use lapor_domain::calendar::Zone;
use lapor_domain::report::{Channel, Classification};
use lapor_domain::{Error, ErrorCode};
use lapor_store::ts::Ts;
use lapor_store::{Block, InboxItem};

type FormResult<T> = Result<Form<T>, axum::extract::rejection::FormRejection>;

/// Channels a block can name (`*` is all of them).
const BLOCKABLE: [&str; 9] = [
    "*",
    "sms",
    "telegram",
    "line",
    "whatsapp",
    "messenger",
    "twitter",
    "email",
    "web",
];

fn when(t: DateTime<Utc>) -> String {
    t.with_timezone(&Zone::Wib.offset())
        .format("%Y-%m-%d %H:%M WIB")
        .to_string()
}

fn allowed(s: &Staff) -> Result<(), Error> {
    if s.may_system(Action::HandleChannelInbox) {
        Ok(())
    } else {
        Err(Error::forbidden())
    }
}

/// An inbox item with what the form needs to turn it into a report.
struct Row {
    item: InboxItem,
    at: String,
    title: String,
    body: String,
    classification: String,
}

fn row(item: InboxItem) -> Row {
    let draft = item
        .draft
        .clone()
        .and_then(|d| serde_json::from_value::<Draft>(d).ok())
        .unwrap_or_default();
    let body = draft.body.clone().unwrap_or_else(|| item.text.clone());
    Row {
        at: when(item.received_at),
        title: draft
            .title
            .clone()
            .unwrap_or_else(|| lapor_channels::forms::title_from(&body)),
        classification: draft
            .classification
            .unwrap_or(Classification::Pengaduan)
            .as_str()
            .to_string(),
        body,
        item,
    }
}

#[derive(Template)]
#[template(path = "staff/channel_inbox.html")]
struct InboxPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    rows: Vec<Row>,
    notice: Option<String>,
    error: Option<String>,
    form: String,
}

async fn inbox_page(st: &AppState, s: &Staff, notice: Option<String>, error: Option<String>) -> Response {
    if let Err(e) = allowed(s) {
        return error_page(&s.c, &e);
    }
    let items = match st.store.inbox_items("open", 100).await {
        Ok(v) => v,
        Err(e) => return error_page(&s.c, &e),
    };
    let page = InboxPage {
        s,
        c: &s.c,
        rows: items.into_iter().map(row).collect(),
        notice,
        error,
        form: FormToken::issue(st, &s.c),
    };
    render(&s.c, StatusCode::OK, &page)
}

pub async fn inbox(State(st): State<AppState>, s: Staff) -> Response {
    inbox_page(&st, &s, None, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ConvertForm {
    csrf: String,
    ft: String,
    title: String,
    body: String,
    classification: String,
}

impl super::Posted for ConvertForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}

/// Files the report for the sender and closes the item. The submission's
/// idempotency key is the item, so two verifiers acting at once file one.
pub async fn convert(
    State(st): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    form: FormResult<ConvertForm>,
) -> Response {
    if let Err(e) = allowed(&s) {
        return error_page(&s.c, &e);
    }
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let item = match st.store.inbox_item(id).await {
        Ok(Some(i)) if i.state == "open" => i,
        Ok(_) => return error_page(&s.c, &Error::not_found()),
        Err(e) => return error_page(&s.c, &e),
    };
    let Some(channel) = Channel::parse(&item.channel) else {
        return error_page(&s.c, &Error::internal("inbox item on an unknown channel"));
    };
    let classification = Classification::parse(&f.classification).unwrap_or(Classification::Pengaduan);
    let res = async {
        let sender = Inbound {
            channel,
            platform_id: format!("inbox:{id}"),
            sender: item.sender.clone(),
            sender_name: item.sender_name.clone(),
            sent_at: Some(item.received_at),
            input: Input::Text(String::new()),
            reply_token: None,
            lang_hint: None,
        };
        let reporter = reporter_for(&st, &sender).await?;
        let req = SubmitReport {
            classification,
            needs_investigation: false,
            category: None,
            title: f.title.trim().to_string(),
            body: f.body.trim().to_string(),
            incident_date: None,
            region_code: None,
            latitude: None,
            longitude: None,
            anonymous: false,
            confidential: false,
            institution: None,
            reporter: None,
            channel: Some(channel),
        };
        let intake = Intake {
            idempotency_key: Some(format!("inbox:{id}")),
            attachments: Vec::new(),
            via: channel,
            for_reporter: Some(reporter),
        };
        let r = service::submit_report(&st, &s.c.caller, req, intake).await?;
        // The message becomes the report's source: X notices reply under
        // the tweet, e-mail ones thread under the mail.
        let prefix = format!("{}:", item.channel);
        let suffix = format!(":{}", item.reason);
        if let Some(platform_id) = item.key.strip_prefix(&prefix).and_then(|k| k.strip_suffix(&suffix)) {
            st.store
                .attach_source(&item.channel, platform_id, &r.tracking_id)
                .await?;
        }
        st.store
            .resolve_inbox_item(id, "converted", Some(&r.tracking_id), &s.user.id, Ts::now())
            .await?;
        super::admin::record(
            &st,
            &s,
            "channel.inbox.converted",
            &r.tracking_id,
            Some(format!("inbox item {id}")),
        )
        .await?;
        Ok::<_, Error>(r.tracking_id)
    }
    .await;
    match res {
        Ok(tid) => see_other(&s.c, &format!("/staf/laporan/{tid}")),
        Err(e) if e.code.http_status() < 500 => {
            // Keep the verifier on the page with what went wrong.
            inbox_page(&st, &s, None, Some(message(&s.c, &e))).await
        }
        Err(e) => error_page(&s.c, &e),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DismissForm {
    csrf: String,
    ft: String,
    /// "ya": also block the sender on this channel.
    block: String,
}

impl super::Posted for DismissForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}

pub async fn dismiss(
    State(st): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    form: FormResult<DismissForm>,
) -> Response {
    if let Err(e) = allowed(&s) {
        return error_page(&s.c, &e);
    }
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let res = async {
        let item = st.store.inbox_item(id).await?.ok_or_else(Error::not_found)?;
        if !st
            .store
            .resolve_inbox_item(id, "dismissed", None, &s.user.id, Ts::now())
            .await?
        {
            return Err(Error::with(ErrorCode::Conflict, "already handled"));
        }
        if f.block == "ya" {
            st.store
                .add_block(&Block {
                    channel: item.channel.clone(),
                    sender: item.sender.clone(),
                    reason: format!("inbox item {id}"),
                    created_by: Some(s.user.id.clone()),
                    created_at: Utc::now(),
                })
                .await?;
        }
        super::admin::record(&st, &s, "channel.inbox.dismissed", &format!("inbox:{id}"), None).await
    }
    .await;
    match res {
        Ok(()) => see_other(&s.c, "/staf/saluran"),
        Err(e) if e.code.http_status() < 500 => inbox_page(&st, &s, None, Some(message(&s.c, &e))).await,
        Err(e) => error_page(&s.c, &e),
    }
}

// ------------------------------------------------------------ block list

#[derive(Template)]
#[template(path = "staff/channel_blocks.html")]
struct BlocksPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    blocks: Vec<(Block, String)>,
    channels: &'static [&'static str],
    error: Option<String>,
    form: String,
}

async fn blocks_page(st: &AppState, s: &Staff, error: Option<String>) -> Response {
    if let Err(e) = allowed(s) {
        return error_page(&s.c, &e);
    }
    let blocks = match st.store.blocks().await {
        Ok(v) => v,
        Err(e) => return error_page(&s.c, &e),
    };
    let page = BlocksPage {
        s,
        c: &s.c,
        blocks: blocks.into_iter().map(|b| (b.clone(), when(b.created_at))).collect(),
        channels: &BLOCKABLE,
        error,
        form: FormToken::issue(st, &s.c),
    };
    render(&s.c, StatusCode::OK, &page)
}

pub async fn blocks(State(st): State<AppState>, s: Staff) -> Response {
    blocks_page(&st, &s, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct BlockForm {
    csrf: String,
    ft: String,
    channel: String,
    sender: String,
    reason: String,
    /// "hapus" removes the block instead.
    op: String,
}

impl super::Posted for BlockForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}

pub async fn blocks_post(State(st): State<AppState>, s: Staff, form: FormResult<BlockForm>) -> Response {
    if let Err(e) = allowed(&s) {
        return error_page(&s.c, &e);
    }
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    // Senders are compared as the channels give them: e-mail lowercased.
    let sender = if f.channel == "email" {
        f.sender.trim().to_lowercase()
    } else {
        f.sender.trim().to_string()
    };
    let sender = sender.as_str();
    let res = async {
        if !BLOCKABLE.contains(&f.channel.as_str()) {
            return Err(Error::validation("channel"));
        }
        if sender.is_empty() || sender.len() > 200 || sender.chars().any(char::is_control) {
            return Err(Error::validation("sender"));
        }
        if f.op == "hapus" {
            st.store.remove_block(&f.channel, sender).await?;
            super::admin::record(&st, &s, "channel.unblocked", &format!("{}:{sender}", f.channel), None).await
        } else {
            let reason = f.reason.trim();
            if reason.chars().count() > 200 {
                return Err(Error::validation("reason"));
            }
            st.store
                .add_block(&Block {
                    channel: f.channel.clone(),
                    sender: sender.to_string(),
                    reason: reason.to_string(),
                    created_by: Some(s.user.id.clone()),
                    created_at: Utc::now(),
                })
                .await?;
            super::admin::record(
                &st,
                &s,
                "channel.blocked",
                &format!("{}:{sender}", f.channel),
                Some(reason.to_string()),
            )
            .await
        }
    }
    .await;
    match res {
        Ok(()) => see_other(&s.c, "/staf/saluran/blokir"),
        Err(e) if e.code.http_status() < 500 => blocks_page(&st, &s, Some(message(&s.c, &e))).await,
        Err(e) => error_page(&s.c, &e),
    }
}
