//! One inbound message, whatever the platform: drop it if already seen,
//! refuse blocked senders and floods, run the chatbot (or, for SMS, the
//! one-message forms), carry out what it asks, and commit the inbound
//! record, the conversation, any inbox item and the replies together.
//!
//! A report submitted from a chat carries the platform's message id as its
//! idempotency key, so a redelivery after a crash between the submission and
//! the turn's commit finds the same report and PIN instead of a second one.

use super::deliver::{Delivery, fetch_photo};
use super::limits::{DEFAULT_PER_MINUTE, Verdict};
use crate::AppState;
use crate::auth::{Caller, new_id};
use crate::service::{self, ActionRequest, Intake, SubmitReport};
use crate::views::ViewLevel;
use crate::web::i18n::msg;
use chrono::Utc;
use lapor_channels::Inbound;
use lapor_channels::conversation::{self as chat, Abandoned, Action, Conversation, Ctx, Outcome, Reply, Summary};
use lapor_channels::email::{self, Mail};
use lapor_channels::forms::{self, SmsForm};
use lapor_domain::authz::Principal;
use lapor_domain::ids::TrackingId;
use lapor_domain::report::{Channel, Classification};
use lapor_domain::{Error, ErrorCode, Lang};
use lapor_store::ts::Ts;
use lapor_store::{
    ChatTurn, ConversationWrite, InboundRecord, NewAttachment, NewInboxItem, OutboxMessage, ReporterIdentity,
    TurnOutcome,
};

/// How one inbound message ended, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Done,
    Duplicate,
    Blocked,
    Limited,
    Spam,
}

fn caps(ch: Channel) -> chat::Capabilities {
    match ch {
        Channel::Telegram => lapor_channels::telegram::CAPS,
        Channel::Line => lapor_channels::line::CAPS,
        Channel::Whatsapp => lapor_channels::meta::WHATSAPP_CAPS,
        Channel::Messenger => lapor_channels::meta::MESSENGER_CAPS,
        _ => chat::Capabilities { buttons: false },
    }
}

fn lang_hint(m: &Inbound) -> Lang {
    if m.lang_hint.as_deref().is_some_and(|l| l.starts_with("en")) {
        Lang::En
    } else {
        Lang::Id
    }
}

/// Text as stored: no control characters but line breaks and tabs
/// (PostgreSQL refuses NUL in text, and nothing needs the others).
fn storable(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

fn record(m: &Inbound, outcome: &str, tracking_id: Option<String>) -> InboundRecord {
    InboundRecord {
        channel: m.channel.as_str().to_string(),
        platform_id: m.platform_id.clone(),
        sender: m.sender.clone(),
        received_at: Utc::now(),
        text: lapor_channels::inbound::clip(&storable(&m.text()), 2000),
        outcome: outcome.to_string(),
        tracking_id,
    }
}

fn delivery(m: &Inbound, replies: &[Reply]) -> Delivery {
    Delivery {
        channel: m.channel.as_str().to_string(),
        to: m.sender.clone(),
        replies: replies.to_vec(),
        reply_token: m.reply_token.clone(),
        in_reply_to: matches!(m.channel, Channel::Twitter | Channel::Email).then(|| m.platform_id.clone()),
        subject: None,
        notice: false,
    }
}

fn outbox_row(m: &Inbound, d: &Delivery) -> OutboxMessage {
    OutboxMessage {
        topic: "channel.send".into(),
        key: format!("{}:{}:reply", m.channel.as_str(), m.platform_id),
        payload: serde_json::to_value(d).unwrap_or_default(),
    }
}

/// The outbox row that carries a turn's replies back.
fn reply_row(m: &Inbound, replies: &[Reply]) -> Option<OutboxMessage> {
    (!replies.is_empty()).then(|| outbox_row(m, &delivery(m, replies)))
}

fn inbox_row(m: &Inbound, reason: &str, text: String, draft: Option<serde_json::Value>) -> NewInboxItem {
    NewInboxItem {
        key: format!("{}:{}:{reason}", m.channel.as_str(), m.platform_id),
        channel: m.channel.as_str().to_string(),
        sender: m.sender.clone(),
        sender_name: m.sender_name.clone(),
        received_at: m.sent_at.unwrap_or_else(Utc::now),
        reason: reason.to_string(),
        text: storable(&text),
        draft,
    }
}

pub(crate) fn abandoned_item(m: &Inbound, a: &Abandoned) -> NewInboxItem {
    match a {
        Abandoned::Draft(d) => {
            let text = [d.title.as_deref(), d.body.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n");
            inbox_row(m, "abandoned", text, serde_json::to_value(d).ok())
        }
        Abandoned::Text(t) => inbox_row(m, "declined", t.clone(), None),
    }
}

fn simple(m: &Inbound, outcome: &str, replies: Vec<Reply>) -> ChatTurn {
    ChatTurn {
        inbound: record(m, outcome, None),
        conversation: None,
        inbox: None,
        outbox: reply_row(m, &replies).into_iter().collect(),
    }
}

/// Handles one message end to end (see the module comment).
pub async fn handle(state: &AppState, m: &Inbound) -> Result<Handled, Error> {
    if let Some(dropped) = admit(state, m).await? {
        return Ok(dropped);
    }
    match m.channel {
        Channel::Sms => sms_turn(state, m).await,
        Channel::Twitter => tweet_turn(state, m).await,
        _ => chat_turn(state, m).await,
    }
}

/// What every message passes first: a redelivery, a blocked sender or a
/// flood is recorded and goes no further.
async fn admit(state: &AppState, m: &Inbound) -> Result<Option<Handled>, Error> {
    let ch = m.channel.as_str();
    if state.store.inbound_seen(ch, &m.platform_id).await? {
        return Ok(Some(Handled::Duplicate));
    }
    let simple = |outcome: &str, replies: Vec<Reply>| simple(m, outcome, replies);
    if state.store.is_blocked(ch, &m.sender).await? {
        tracing::info!(channel = ch, "message from a blocked sender dropped");
        state.chat.commit(&state.store, simple("blocked", Vec::new())).await?;
        return Ok(Some(Handled::Blocked));
    }
    let per_minute = state
        .config
        .channels
        .per_sender_per_minute
        .unwrap_or(DEFAULT_PER_MINUTE);
    match state
        .chat
        .limits
        // E-mail has passed the MTA's spam scoring; the chat rules (links)
        // would misjudge a complaint that cites a few pages.
        .check(
            ch,
            &m.sender,
            &m.text(),
            per_minute,
            m.channel != Channel::Email,
            std::time::Instant::now(),
        ) {
        Verdict::Limited { tell } => {
            let replies = if tell {
                vec![Reply::text(ErrorCode::RateLimited.message(lang_hint(m)))]
            } else {
                Vec::new()
            };
            state.chat.commit(&state.store, simple("limited", replies)).await?;
            Ok(Some(Handled::Limited))
        }
        Verdict::Spam(rule) => {
            tracing::info!(channel = ch, rule, "message dropped as spam");
            state.chat.commit(&state.store, simple("spam", Vec::new())).await?;
            Ok(Some(Handled::Spam))
        }
        Verdict::Allow => Ok(None),
    }
}

async fn chat_turn(state: &AppState, m: &Inbound) -> Result<Handled, Error> {
    let ch = m.channel.as_str();
    let places = state.chat.places(state.store.as_ref()).await?;
    let mut acted = None;
    for _ in 0..3 {
        let now = Utc::now();
        let stored = state.store.conversation(ch, &m.sender).await?;
        let conv = stored
            .as_ref()
            .and_then(|s| serde_json::from_value::<Conversation>(s.state.clone()).ok())
            .unwrap_or_else(|| Conversation::new(lang_hint(m), now));
        let ctx = Ctx {
            now,
            caps: caps(m.channel),
            dir: places.as_ref(),
            max_photo_bytes: lapor_domain::media::MAX_FILE_BYTES as u64,
        };
        let mut turn = chat::step(&conv, &m.input, &ctx);
        let lang = turn.conversation.lang;
        // An action runs once even if the commit below has to be retried.
        if acted.is_none()
            && let Some(action) = turn.action.take()
        {
            let (o, tid) = run_action(state, m, lang, action, Vec::new()).await?;
            acted = Some((chat::for_platform(chat::outcome(lang, &o), ctx.caps), tid));
        }
        let (outcome_replies, tid) = acted.clone().unwrap_or_default();
        let mut replies = turn.replies.clone();
        replies.extend(outcome_replies);
        let inbox = turn.abandoned.as_ref().map(|a| abandoned_item(m, a));
        let write = ConversationWrite {
            state: serde_json::to_value(&turn.conversation).map_err(|e| Error::internal(e.to_string()))?,
            expected_version: stored.as_ref().map(|s| s.version),
            updated_at: now,
            expires_at: turn.conversation.expires_at(),
        };
        let commit = ChatTurn {
            inbound: record(m, if inbox.is_some() { "inbox" } else { "handled" }, tid),
            conversation: Some(write),
            inbox,
            outbox: reply_row(m, &replies).into_iter().collect(),
        };
        match state.chat.commit(&state.store, commit).await? {
            TurnOutcome::Committed => return Ok(Handled::Done),
            TurnOutcome::Duplicate => return Ok(Handled::Duplicate),
            TurnOutcome::Conflict => continue,
        }
    }
    Err(Error::new(ErrorCode::Unavailable))
}

async fn sms_turn(state: &AppState, m: &Inbound) -> Result<Handled, Error> {
    let text = m.text();
    let lang = Lang::Id;
    let form = forms::sms(&text);
    let (replies, tid, inbox) = match form {
        SmsForm::Help => {
            let help = Reply::text(
                "LAPOR!: kirim LAPOR <isi laporan>; LACAK <ID>; BALAS <ID> <isi>; NILAI <ID> <1-5>. Info: lapor.go.id",
            );
            // A message with substance that is not in the form: staff look at it.
            let inbox = (text.split_whitespace().count() >= 4).then(|| inbox_row(m, "untagged", text.clone(), None));
            (vec![help], None, inbox)
        }
        SmsForm::Report { body } => {
            let draft = chat::Draft {
                classification: Some(Classification::Pengaduan),
                title: Some(forms::title_from(&body)),
                body: Some(body),
                ..Default::default()
            };
            sms_action(state, m, lang, Action::Submit(draft)).await?
        }
        SmsForm::Track(id) => sms_action(state, m, lang, Action::Track(id)).await?,
        SmsForm::Reply { tracking_id, text } => sms_action(state, m, lang, Action::Reply { tracking_id, text }).await?,
        SmsForm::Rate { tracking_id, stars } => sms_action(state, m, lang, Action::Rate { tracking_id, stars }).await?,
    };
    commit_form_turn(state, m, reply_row(m, &replies), tid, inbox).await
}

/// One inbound e-mail: a new mail becomes a report with its attachments;
/// a mail whose subject carries `[LAPOR <ID>]` answers that report. The
/// answer is mailed back in the same thread. Auto-replies are recorded and
/// never answered.
pub async fn handle_mail(state: &AppState, mail: &Mail) -> Result<Handled, Error> {
    use sha2::{Digest, Sha256};
    let platform_id = mail.message_id.clone().unwrap_or_else(|| {
        // No Message-ID (rare, but legal): the content stands in for one.
        let d = Sha256::digest(format!("{}\n{}\n{}", mail.from, mail.subject, mail.text).as_bytes());
        format!("sha256:{}", hex::encode(&d[..16]))
    });
    let m = Inbound {
        channel: Channel::Email,
        platform_id,
        sender: mail.from.clone(),
        sender_name: mail.from_name.clone(),
        sent_at: mail.sent_at,
        input: chat::Input::Text(format!("{}\n{}", mail.subject, mail.text)),
        reply_token: None,
        lang_hint: None,
    };
    if let Some(dropped) = admit(state, &m).await? {
        return Ok(dropped);
    }
    if mail.automatic {
        state
            .chat
            .commit(&state.store, simple(&m, "automatic", Vec::new()))
            .await?;
        return Ok(Handled::Spam);
    }
    let authserv = state
        .config
        .channels
        .email
        .as_ref()
        .and_then(|c| c.authserv_id.as_deref());
    if !authserv.is_some_and(|id| email::verified(mail, id)) {
        // Staff can still read it and file it as a report.
        let text = format!("{}\n{}", mail.subject, mail.text);
        let inbox = inbox_row(&m, "unverified", text, None);
        return commit_form_turn(state, &m, None, None, Some(inbox)).await;
    }
    let lang = Lang::Id;
    let (replies, tid) = if let Some(id) = email::tagged_report(&mail.subject) {
        if mail.text.chars().count() < 2 {
            let r = Reply::text(format!(
                "Balasan Anda untuk laporan {id} kosong. Tulis tanggapan Anda di atas kutipan e-mail kami."
            ));
            (vec![r], None)
        } else {
            let action = match email::command(&mail.text) {
                Some(email::Command::Rate(stars)) => Action::Rate { tracking_id: id, stars },
                Some(email::Command::Track) => Action::Track(id),
                None => Action::Reply {
                    tracking_id: id,
                    text: mail.text.clone(),
                },
            };
            let (o, tid) = run_action(state, &m, lang, action, Vec::new()).await?;
            (chat::for_platform(chat::outcome(lang, &o), caps(Channel::Email)), tid)
        }
    } else if mail.text.chars().count() < forms::MIN_BODY {
        let r = Reply::text(
            "E-mail Anda kami terima, tetapi isinya terlalu singkat untuk dijadikan laporan. \
             Ceritakan apa yang terjadi, di mana dan kapan di badan e-mail, lalu kirim lagi. \
             Untuk menanggapi laporan yang ada, balas e-mail kami (subjeknya memuat [LAPOR ID]).",
        );
        (vec![r], None)
    } else {
        let mut files = Vec::new();
        let mut left_out = Vec::new();
        for a in &mail.attachments {
            let name = a.name.clone().unwrap_or_else(|| "lampiran".into());
            match super::deliver::attachment_from(&a.bytes, &name) {
                Ok(f) if files.len() < lapor_domain::media::MAX_FILES => files.push(f),
                Ok(_) => left_out.push(format!("{name} (batas {} berkas)", lapor_domain::media::MAX_FILES)),
                Err(e) => left_out.push(format!("{name} ({})", e.code.message(lang))),
            }
        }
        let title = if mail.subject.chars().count() >= 5 {
            lapor_channels::inbound::clip(&mail.subject, lapor_domain::report::TITLE_MAX)
        } else {
            forms::title_from(&mail.text)
        };
        let draft = chat::Draft {
            classification: Some(Classification::Pengaduan),
            title: Some(title),
            body: Some(mail.text.clone()),
            ..Default::default()
        };
        let (o, tid) = run_action(state, &m, lang, Action::Submit(draft), files).await?;
        let mut replies = chat::for_platform(chat::outcome(lang, &o), caps(Channel::Email));
        if !left_out.is_empty() {
            replies.push(Reply::text(format!(
                "Lampiran yang tidak kami simpan: {}.",
                left_out.join("; ")
            )));
        }
        (replies, tid)
    };
    let mut d = delivery(&m, &replies);
    d.subject = Some(match &tid {
        Some(t) => email::answer_subject(&mail.subject, t),
        None => format!("Re: {}", mail.subject),
    });
    commit_form_turn(state, &m, Some(outbox_row(&m, &d)), tid, None).await
}

/// Commits a turn of a one-message channel (SMS, X, e-mail): no
/// conversation, at most one answer.
async fn commit_form_turn(
    state: &AppState,
    m: &Inbound,
    answer: Option<OutboxMessage>,
    tid: Option<String>,
    inbox: Option<NewInboxItem>,
) -> Result<Handled, Error> {
    let commit = ChatTurn {
        inbound: record(m, if inbox.is_some() { "inbox" } else { "handled" }, tid),
        conversation: None,
        inbox,
        outbox: answer.into_iter().collect(),
    };
    Ok(match state.chat.commit(&state.store, commit).await? {
        TurnOutcome::Duplicate => Handled::Duplicate,
        _ => Handled::Done,
    })
}

/// A mention of our X account: `#LAPOR …` becomes a report answered in
/// public (so without the PIN: the report is tied to the X account, which
/// tracks it); anything else goes to the handler inbox unanswered.
async fn tweet_turn(state: &AppState, m: &Inbound) -> Result<Handled, Error> {
    let handle = state
        .config
        .channels
        .x
        .as_ref()
        .map(|c| c.account_handle.as_str())
        .unwrap_or_default();
    let text = m.text();
    let Some(body) = forms::tweet(&text, handle) else {
        let inbox = inbox_row(m, "untagged", text, None);
        return commit_form_turn(state, m, None, None, Some(inbox)).await;
    };
    let draft = chat::Draft {
        classification: Some(Classification::Pengaduan),
        title: Some(forms::title_from(&body)),
        body: Some(body),
        ..Default::default()
    };
    let (o, tid) = run_action(state, m, Lang::Id, Action::Submit(draft), Vec::new()).await?;
    let replies = match &o {
        Outcome::Submitted { tracking_id, .. } => vec![Reply::text(format!(
            "Terima kasih, laporan Anda kami terima. ID Pelacakan: {tracking_id}. Perkembangannya kami kabarkan, \
             juga di {}/lacak",
            state.config.public_url.trim_end_matches('/')
        ))],
        _ => chat::for_platform(chat::outcome(Lang::Id, &o), caps(Channel::Twitter)),
    };
    commit_form_turn(state, m, reply_row(m, &replies), tid, None).await
}

async fn sms_action(
    state: &AppState,
    m: &Inbound,
    lang: Lang,
    action: Action,
) -> Result<(Vec<Reply>, Option<String>, Option<NewInboxItem>), Error> {
    let (o, tid) = run_action(state, m, lang, action, Vec::new()).await?;
    Ok((
        chat::for_platform(chat::outcome(lang, &o), caps(Channel::Sms)),
        tid,
        None,
    ))
}

/// The reporter behind a platform account, created on first contact.
pub(crate) async fn reporter_for(state: &AppState, m: &Inbound) -> Result<String, Error> {
    let ch = m.channel.as_str();
    if let Some(id) = state.store.channel_reporter(ch, &m.sender).await? {
        return Ok(id);
    }
    // Phone-number channels give us a number to call the reporter back on.
    let phone = match m.channel {
        Channel::Sms | Channel::Whatsapp => service::normalize_phone(&m.sender),
        _ => None,
    };
    let who = ReporterIdentity {
        id: new_id("r-"),
        user_id: None,
        name: m.sender_name.clone(),
        email: None,
        phone,
    };
    state.store.link_channel_identity(ch, &m.sender, &who, Ts::now()).await
}

fn refused(e: &Error, lang: Lang) -> Outcome {
    let mut text = e.code.message(lang).to_string();
    if let Some(d) = &e.detail {
        text.push_str(&format!(" ({d})"));
    }
    Outcome::Refused(text)
}

/// Carries out what the chatbot asked for, as the sender's reporter.
async fn run_action(
    state: &AppState,
    m: &Inbound,
    lang: Lang,
    action: Action,
    // Files that came with the message itself (e-mail attachments).
    mut attachments: Vec<NewAttachment>,
) -> Result<(Outcome, Option<String>), Error> {
    let reporter_id = reporter_for(state, m).await?;
    let caller = Caller {
        principal: Principal::Reporter { reporter_id },
        user: None,
        lang,
    };
    match action {
        Action::Submit(d) => {
            let mut dropped = 0;
            for p in &d.photos {
                match fetch_photo(state, m.channel, p).await {
                    Ok(a) => attachments.push(a),
                    Err(why) => {
                        tracing::warn!(channel = m.channel.as_str(), %why, "photo not attached");
                        dropped += 1;
                    }
                }
            }
            let req = SubmitReport {
                classification: d.classification.unwrap_or(Classification::Pengaduan),
                needs_investigation: false,
                category: None,
                title: d.title.clone().unwrap_or_default(),
                body: d.body.clone().unwrap_or_default(),
                incident_date: None,
                region_code: d.place.as_ref().map(|p| p.code.clone()),
                latitude: d.lat,
                longitude: d.lon,
                anonymous: d.anonymous.unwrap_or(false),
                confidential: false,
                institution: None,
                reporter: None,
                channel: None,
            };
            let intake = Intake {
                idempotency_key: Some(format!("{}:{}", m.channel.as_str(), m.platform_id)),
                attachments,
                via: m.channel,
                for_reporter: None,
            };
            match service::submit_report(state, &caller, req, intake).await {
                Ok(r) => {
                    let tid = r.tracking_id.clone();
                    Ok((
                        Outcome::Submitted {
                            tracking_id: r.tracking_id,
                            pin: r.pin,
                            photos_dropped: dropped,
                        },
                        Some(tid),
                    ))
                }
                Err(e) if e.code.http_status() < 500 => Ok((refused(&e, lang), None)),
                Err(e) => Err(e),
            }
        }
        Action::Track(id) => match service::get_report(state, &caller, id.as_str(), None).await {
            Ok(v) => {
                let institution = match &v.institution {
                    Some(code) => Some(
                        state
                            .names
                            .institution(state, code)
                            .await
                            .unwrap_or_else(|_| code.clone()),
                    ),
                    None => None,
                };
                let latest = v
                    .events
                    .as_ref()
                    .and_then(|evs| evs.iter().rev().find_map(|e| e.body.clone()))
                    .map(|b| lapor_channels::inbound::clip(&b, 600));
                let summary = Summary {
                    tracking_id: v.tracking_id.clone(),
                    title: v.title.clone(),
                    status_label: msg(lang).status(&v.status).to_string(),
                    institution,
                    latest,
                    can_reply: v.view == ViewLevel::Reporter && v.status == "responded",
                };
                Ok((Outcome::Status(summary), Some(v.tracking_id)))
            }
            Err(e) if e.code == ErrorCode::NotFound || e.code == ErrorCode::Forbidden => Ok((Outcome::NotFound, None)),
            Err(e) if e.code.http_status() < 500 => Ok((refused(&e, lang), None)),
            Err(e) => Err(e),
        },
        Action::Reply { tracking_id, text } => {
            let r = service::act(
                state,
                &caller,
                tracking_id.as_str(),
                None,
                ActionRequest::Reply { body: text },
                None,
            )
            .await;
            finish(r.map(|_| Outcome::Replied), tracking_id, lang)
        }
        Action::Rate { tracking_id, stars } => {
            let r = service::act(
                state,
                &caller,
                tracking_id.as_str(),
                None,
                ActionRequest::Rate {
                    rating: stars,
                    comment: None,
                },
                None,
            )
            .await;
            finish(r.map(|_| Outcome::Rated { stars }), tracking_id, lang)
        }
    }
}

fn finish(r: Result<Outcome, Error>, id: TrackingId, lang: Lang) -> Result<(Outcome, Option<String>), Error> {
    match r {
        Ok(o) => Ok((o, Some(id.to_string()))),
        Err(e) if e.code == ErrorCode::NotFound || e.code == ErrorCode::Forbidden => Ok((Outcome::NotFound, None)),
        Err(e) if e.code.http_status() < 500 => Ok((refused(&e, lang), None)),
        Err(e) => Err(e),
    }
}

/// A progress notice on the channel a report came by, when the reporter
/// is reachable there; false when e-mail should be used instead.
/// X is public: there the notice is a reply under the reporter's tweet
/// that says only the new status and where to read the rest.
pub async fn notice_payload(state: &AppState, reporter_id: &str, n: &Notice<'_>) -> Result<Option<Delivery>, Error> {
    let channel = n.channel;
    if !state.config.channels.enabled(channel) {
        return Ok(None);
    }
    let Some(to) = state.store.channel_address(reporter_id, channel.as_str()).await? else {
        return Ok(None);
    };
    let mut subject = None;
    let (text, in_reply_to) = if channel == Channel::Twitter {
        let Some(tweet) = state.store.source_message(channel.as_str(), n.tracking_id).await? else {
            return Ok(None);
        };
        let text = format!(
            "Laporan {}: {}. Selengkapnya: {}",
            n.tracking_id, n.status_label, n.track_url
        );
        (text, Some(tweet))
    } else if channel == Channel::Email {
        // Threads under the mail the report came by.
        subject = Some(lapor_channels::email::answer_subject(n.title, n.tracking_id));
        let source = state.store.source_message(channel.as_str(), n.tracking_id).await?;
        (n.text.to_string(), source)
    } else {
        (n.text.to_string(), None)
    };
    Ok(Some(Delivery {
        channel: channel.as_str().to_string(),
        to,
        replies: vec![Reply::text(text)],
        reply_token: None,
        in_reply_to,
        subject,
        notice: true,
    }))
}

/// A progress notice to send on the channel a report came by.
pub struct Notice<'a> {
    pub channel: Channel,
    pub tracking_id: &'a str,
    pub title: &'a str,
    /// The full notice, for private channels.
    pub text: &'a str,
    pub status_label: &'a str,
    pub track_url: &'a str,
}

/// Ends conversations nobody came back to, filing what they left behind in
/// the handler inbox. Run by the scheduler; returns how many ended.
pub async fn sweep_conversations(state: &AppState, now: chrono::DateTime<Utc>) -> Result<usize, Error> {
    let mut ended = 0;
    for c in state.store.expired_conversations(Ts::new(now), 500).await? {
        let Ok(mut conv) = serde_json::from_value::<Conversation>(c.state.clone()) else {
            continue;
        };
        let left = conv.expire(now);
        let Some(ch) = Channel::parse(&c.channel) else { continue };
        let stand_in = Inbound {
            channel: ch,
            platform_id: format!("expired:{}:{}", c.sender, c.version),
            sender: c.sender.clone(),
            sender_name: None,
            sent_at: Some(now),
            input: chat::Input::Unsupported("timeout".into()),
            reply_token: None,
            lang_hint: None,
        };
        let item = left.as_ref().map(|a| abandoned_item(&stand_in, a));
        let state_json = serde_json::to_value(&conv).map_err(|e| Error::internal(e.to_string()))?;
        if state
            .store
            .end_conversation(&c, &state_json, Ts::new(now), item.as_ref())
            .await?
        {
            ended += 1;
        }
    }
    Ok(ended)
}

/// Keeps an SMPP session bound to the operator's SMSC while SMS replies go
/// out that way: publishes each session for the senders, and runs every
/// message that arrives through the same turn as the HTTP gateways.
pub async fn run_smpp(
    state: AppState,
    cfg: super::SmppConfig,
    sender_id: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    use lapor_smpp::esme::{Backoff, Config, run_with_reconnect};
    use std::ops::ControlFlow;
    let mut c = Config::new(cfg.address.clone(), cfg.system_id.clone(), cfg.password.clone());
    c.system_type = cfg.system_type.clone();
    c.source_addr = sender_id;
    let stop_sessions = stop.clone();
    let session = run_with_reconnect(c, Backoff::default(), |esme, mut incoming| {
        let state = state.clone();
        let mut stop = stop_sessions.clone();
        async move {
            *state.chat.smpp.write().await = Some(esme.clone());
            tracing::info!("SMPP bound as transceiver");
            loop {
                tokio::select! {
                    msg = incoming.recv() => match msg {
                        Some(m) if m.is_receipt => tracing::debug!(?m.receipt, "SMPP delivery receipt"),
                        Some(m) => {
                            let inbound = smpp_inbound(&m, Utc::now());
                            if let Err(e) = handle(&state, &inbound).await {
                                tracing::error!(error = %e, "SMS over SMPP not processed");
                            }
                        }
                        None => {
                            tracing::warn!("SMPP session ended; reconnecting");
                            *state.chat.smpp.write().await = None;
                            return ControlFlow::Continue(());
                        }
                    },
                    _ = stop.changed() => {
                        esme.unbind().await;
                        *state.chat.smpp.write().await = None;
                        return ControlFlow::Break(());
                    }
                }
            }
        }
    });
    tokio::select! {
        _ = session => {}
        _ = stop.changed() => {}
    }
}

/// SMPP gives no message id that survives a redelivery; the sender, the
/// text and the minute stand in for one, so a quick resend is dropped.
pub fn smpp_inbound(m: &lapor_smpp::esme::Incoming, now: chrono::DateTime<Utc>) -> Inbound {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("{}\n{}\n{}", m.from, m.text, now.timestamp() / 60).as_bytes());
    Inbound {
        channel: Channel::Sms,
        platform_id: format!("smpp:{}", hex::encode(&d[..12])),
        sender: m.from.clone(),
        sender_name: None,
        sent_at: Some(now),
        input: chat::Input::Text(m.text.clone()),
        reply_token: None,
        lang_hint: None,
    }
}
