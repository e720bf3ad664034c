//! What each outbox topic means:
//!
//! | topic | job |
//! |---|---|
//! | `notify.reporter.receipt` | Tracking ID and PIN to the reporter (the PIN is scrubbed once sent) |
//! | `notify.reporter.update` | a change the reporter may see, on the channel the report came by |
//! | `channel.send` | a chatbot turn's replies, or a notice, through a platform's API (the text, which may hold a PIN, is dropped once sent) |
//! | `notify.staff.password_reset` | the reset link |
//! | `notify.staff.email` | one rendered e-mail to one staff member |
//! | `notify.staff.digest` | the day's overdue digest, fanned out per staff member |
//! | `report.<event>` | the report's event stream: assignments, reminders, escalations and Ombudsman cases become staff notifications (in-app, plus an e-mail job each, and a push job per device for assignments) |
//! | `push.send` | one Web Push notification to one subscribed device (`crate::push`) |
//!
//! Fan-out jobs write their children with keys derived from their own, so
//! running one twice after a crash creates nothing twice.

use crate::AppState;
use crate::notify::{AddressKind, Outgoing, SendError};
use crate::web::i18n::{deadline_words, msg};
use chrono::{DateTime, Utc};
use lapor_domain::event::{Event, EventData};
use lapor_domain::report::{Report, Visibility};
use lapor_domain::sla::EscalationStep;
use lapor_domain::{Error, Lang};
use lapor_store::ts::Ts;
use lapor_store::{Job, NewStaffNotification, OutboxMessage, Recipient, ReportFilter};
use serde_json::{Value, json};

/// How a handler finished.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    Done,
    /// Done; store this payload instead of the original (drops secrets).
    DoneScrub(Value),
}

fn transient(e: Error) -> SendError {
    SendError::Transient(e.to_string())
}

pub async fn handle(state: &AppState, job: &Job) -> Result<Handled, SendError> {
    match job.topic.as_str() {
        "notify.reporter.receipt" => receipt(state, job).await,
        "notify.reporter.update" => reporter_update(state, job).await,
        "channel.send" => channel_send(state, job).await,
        "notify.staff.password_reset" => password_reset(state, job).await,
        "notify.staff.email" => staff_email(state, job).await,
        "notify.staff.digest" => digest(state, job).await,
        "push.send" => crate::push::deliver(state, &job.key, &job.payload)
            .await
            .map(|()| Handled::Done),
        t if t.starts_with("report.") => report_event(state, job).await,
        other => Err(SendError::Permanent(format!("no handler for topic {other}"))),
    }
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Sends an e-mail unless the address is known to bounce.
pub(crate) async fn email(
    state: &AppState,
    key: &str,
    to: &str,
    subject: String,
    text: String,
    in_reply_to: Option<String>,
) -> Result<(), SendError> {
    let Some(ch) = state.channels.email() else {
        return Err(SendError::Transient("no e-mail channel configured".into()));
    };
    if let Some(reason) = state.store.undeliverable_reason(to).await.map_err(transient)? {
        return Err(SendError::Undeliverable(format!("{to}: {reason}")));
    }
    let msg = Outgoing {
        key: key.to_string(),
        to: to.to_string(),
        subject,
        text,
        in_reply_to,
    };
    match ch.send(&msg).await {
        Err(SendError::Undeliverable(reason)) => {
            state
                .store
                .mark_undeliverable(to, &reason, Ts::now())
                .await
                .map_err(transient)?;
            Err(SendError::Undeliverable(reason))
        }
        other => other,
    }
}

fn public_url(state: &AppState) -> &str {
    state.config.public_url.trim_end_matches('/')
}

async fn receipt(state: &AppState, job: &Job) -> Result<Handled, SendError> {
    let p = &job.payload;
    let tid = str_of(p, "tracking_id").ok_or_else(|| SendError::Permanent("no tracking_id".into()))?;
    let Some(to) = p.get("to").and_then(|t| str_of(t, "email")) else {
        // SMS receipts go out once an SMS channel exists; nothing to send.
        return Ok(Handled::DoneScrub(scrub_pin(p)));
    };
    let Some(pin) = str_of(p, "pin") else {
        return Ok(Handled::Done);
    };
    let lang = str_of(p, "lang").unwrap_or("id");
    let ctx = json!({
        "tracking_id": tid,
        "pin": pin,
        "track_url": format!("{}/lacak/{tid}", public_url(state)),
    });
    let r = state
        .templates
        .render(state.store.as_ref(), "reporter.receipt", lang, &ctx)
        .await
        .map_err(transient)?;
    email(state, &job.key, to, r.subject, r.text, None).await?;
    Ok(Handled::DoneScrub(scrub_pin(p)))
}

fn scrub_pin(p: &Value) -> Value {
    let mut p = p.clone();
    if let Some(o) = p.as_object_mut() {
        o.remove("pin");
    }
    p
}

/// The report and the event a `{tracking_id, seq}` payload points at.
async fn report_and_event(state: &AppState, p: &Value) -> Result<(Report, Event), SendError> {
    let (Some(tid), Some(seq)) = (str_of(p, "tracking_id"), p.get("seq").and_then(Value::as_i64)) else {
        return Err(SendError::Permanent("no tracking_id/seq".into()));
    };
    let id = lapor_domain::ids::TrackingId::parse(tid).map_err(|e| SendError::Permanent(e.to_string()))?;
    let Some(stored) = state.store.report(&id).await.map_err(transient)? else {
        return Err(SendError::Permanent(format!("report {tid} not found")));
    };
    let events = state.store.events(&id).await.map_err(transient)?;
    let Some(event) = events.into_iter().find(|e| e.seq == seq) else {
        return Err(SendError::Permanent(format!("{tid}: no event {seq}")));
    };
    Ok((stored.report, event))
}

fn lang_of(s: Option<&str>) -> Lang {
    if s == Some("en") { Lang::En } else { Lang::Id }
}

async fn reporter_update(state: &AppState, job: &Job) -> Result<Handled, SendError> {
    let p = &job.payload;
    let (r, event) = report_and_event(state, p).await?;
    let tid = r.tracking_id.as_str();
    let Some(reporter_id) = r.reporter_id.as_deref() else {
        return Ok(Handled::Done);
    };
    let Some(who) = state.store.reporter(reporter_id).await.map_err(transient)? else {
        return Ok(Handled::Done);
    };
    let lang = lang_of(str_of(p, "lang"));
    let m = msg(lang);
    // A reporter with an account hears on every device they subscribed,
    // whatever their e-mail preference (subscribing is the opt-in).
    if let Some(uid) = &who.user_id {
        let notice = crate::notify::webpush::Notice {
            title: format!("{tid}: {}", m.status(r.status.as_str())),
            body: crate::push::short(
                event
                    .body
                    .as_deref()
                    .filter(|b| event.visibility != Visibility::Internal && !b.trim().is_empty())
                    .unwrap_or(&r.title),
                140,
            ),
            url: format!("/lacak/{tid}"),
            tag: tid.to_string(),
        };
        let jobs = crate::push::jobs_for(state, &job.key, uid, &notice)
            .await
            .map_err(transient)?;
        if !jobs.is_empty() {
            state.store.enqueue(&jobs).await.map_err(transient)?;
        }
    }
    if let Some(uid) = &who.user_id
        && let Some(u) = state.store.user(uid).await.map_err(transient)?
        && !u.notify_email
    {
        // The reporter turned e-mail off; other channels honour their own opt-outs.
        return Ok(Handled::Done);
    }
    let institution = match &r.institution {
        Some(code) => state
            .names
            .institution(state, code)
            .await
            .unwrap_or_else(|_| code.clone()),
        None => String::new(),
    };
    let ctx = json!({
        "tracking_id": tid,
        "title": r.title,
        "kind": event.data.kind(),
        "status": r.status.as_str(),
        "status_label": m.status(r.status.as_str()),
        "institution": institution,
        "body": event.body.as_deref().filter(|_| event.visibility != Visibility::Internal).unwrap_or(""),
        "due_date": r.due_at.filter(|_| !r.status.is_closed()).map(|d| deadline_words(d, r.zone, lang)).unwrap_or_default(),
        "track_url": format!("{}/lacak/{tid}", public_url(state)),
    });
    let rendered = state
        .templates
        .render(
            state.store.as_ref(),
            "reporter.update",
            crate::notify::templates::lang_code(lang),
            &ctx,
        )
        .await
        .map_err(transient)?;
    // A chat or SMS report hears back where it came from.
    let track_url = format!("{}/lacak/{tid}", public_url(state));
    let notice = crate::channels::turn::Notice {
        channel: r.channel,
        tracking_id: tid,
        title: &r.title,
        text: &rendered.text,
        status_label: m.status(r.status.as_str()),
        track_url: &track_url,
    };
    if let Some(d) = crate::channels::turn::notice_payload(state, reporter_id, &notice)
        .await
        .map_err(transient)?
    {
        crate::channels::deliver::send(state, &job.key, &d).await?;
        return Ok(Handled::Done);
    }
    // The channel the report came by when possible, else e-mail.
    for ch in state.channels.for_report(r.channel) {
        let to = match ch.address_kind() {
            AddressKind::Email => who.email.as_deref(),
            AddressKind::Phone => who.phone.as_deref(),
        };
        let Some(to) = to.filter(|t| !t.is_empty()) else {
            continue;
        };
        if ch.address_kind() == AddressKind::Email {
            email(
                state,
                &job.key,
                to,
                rendered.subject.clone(),
                rendered.text.clone(),
                None,
            )
            .await?;
        } else {
            ch.send(&Outgoing {
                key: job.key.clone(),
                to: to.to_string(),
                subject: rendered.subject.clone(),
                text: rendered.text.clone(),
                in_reply_to: None,
            })
            .await?;
        }
        return Ok(Handled::Done);
    }
    // No address on any channel we can send through.
    Ok(Handled::Done)
}

async fn channel_send(state: &AppState, job: &Job) -> Result<Handled, SendError> {
    let d: crate::channels::deliver::Delivery =
        serde_json::from_value(job.payload.clone()).map_err(|e| SendError::Permanent(format!("bad payload: {e}")))?;
    crate::channels::deliver::send(state, &job.key, &d).await?;
    // Replies may carry a PIN: keep only who and how many once sent.
    Ok(Handled::DoneScrub(json!({
        "channel": d.channel,
        "to": d.to,
        "replies": d.replies.len(),
    })))
}

async fn password_reset(state: &AppState, job: &Job) -> Result<Handled, SendError> {
    let p = &job.payload;
    let Some(to) = p.get("to").and_then(|t| str_of(t, "email")) else {
        return Err(SendError::Permanent("no address".into()));
    };
    let r = state
        .templates
        .render(state.store.as_ref(), "staff.password_reset", "id", p)
        .await
        .map_err(transient)?;
    email(state, &job.key, to, r.subject, r.text, None).await?;
    // The link is a credential: do not keep it once sent.
    Ok(Handled::DoneScrub(
        json!({ "to": p.get("to"), "user_id": p.get("user_id") }),
    ))
}

async fn staff_email(state: &AppState, job: &Job) -> Result<Handled, SendError> {
    let p = &job.payload;
    let (Some(to), Some(subject), Some(text)) = (str_of(p, "to"), str_of(p, "subject"), str_of(p, "text")) else {
        return Err(SendError::Permanent("incomplete staff e-mail".into()));
    };
    email(state, &job.key, to, subject.to_string(), text.to_string(), None).await?;
    Ok(Handled::Done)
}

/// Who must hear about a report at an escalation step.
async fn recipients(state: &AppState, r: &Report, step: EscalationStep) -> Result<Vec<Recipient>, Error> {
    let store = &state.store;
    let roles: Vec<&str> = step.roles().iter().map(|r| r.as_str()).collect();
    match step {
        EscalationStep::Liaison => {
            if let Some(uid) = &r.liaison
                && let Some(u) = store.user(uid).await?
            {
                return Ok(vec![Recipient {
                    user_id: u.id,
                    name: u.name,
                    email: u.email,
                }]);
            }
            let holder = r.unit.as_deref().or(r.institution.as_deref());
            match holder {
                Some(h) => store.members(Some(h), &roles).await,
                None => Ok(Vec::new()),
            }
        }
        EscalationStep::InstitutionAdmin => match &r.institution {
            Some(i) => store.members(Some(i), &roles).await,
            None => Ok(Vec::new()),
        },
        EscalationStep::Supervisor => {
            let Some(i) = &r.institution else {
                return Ok(Vec::new());
            };
            let mut path = store.institution_path(i).await?;
            path.pop();
            // The nearest institution above that has someone to answer;
            // the national operator at the root is the next step, not this.
            for code in path.iter().rev().take(path.len().saturating_sub(1)) {
                let found = store.members(Some(code), &roles).await?;
                if !found.is_empty() {
                    return Ok(found);
                }
            }
            Ok(Vec::new())
        }
        EscalationStep::NationalAdmin => store.members(None, &roles).await,
    }
}

/// Writes the in-app notification and queues the e-mail for each
/// recipient; keys derive from `key`, so a rerun adds nothing.
async fn notify_staff(
    state: &AppState,
    key: &str,
    kind: &str,
    template: &str,
    tracking_id: Option<&str>,
    who: &[Recipient],
    ctx: &Value,
) -> Result<(), Error> {
    let now = Utc::now();
    let mut inbox = Vec::new();
    let mut mails = Vec::new();
    for r in who {
        let mut c = ctx.clone();
        if let Some(o) = c.as_object_mut() {
            o.insert("name".into(), json!(r.name));
        }
        let rendered = state.templates.render(state.store.as_ref(), template, "id", &c).await?;
        inbox.push(NewStaffNotification {
            key: format!("{key}:{}", r.user_id),
            user_id: r.user_id.clone(),
            at: now,
            kind: kind.to_string(),
            tracking_id: tracking_id.map(str::to_string),
            subject: rendered.subject.clone(),
            body: rendered.text.clone(),
        });
        // New assignments also reach the staff member's subscribed devices.
        if template == "staff.assignment"
            && let Some(tid) = tracking_id
        {
            let notice = crate::notify::webpush::Notice {
                title: crate::push::short(&rendered.subject, 80),
                body: crate::push::short(&rendered.text, 140),
                url: format!("/staf/laporan/{tid}"),
                tag: format!("staf-{tid}"),
            };
            mails.extend(crate::push::jobs_for(state, &format!("{key}:{}", r.user_id), &r.user_id, &notice).await?);
        }
        if let Some(to) = r.email.as_deref().filter(|e| !e.is_empty()) {
            mails.push(OutboxMessage {
                topic: "notify.staff.email".into(),
                key: format!("{key}:{}:email", r.user_id),
                payload: json!({ "to": to, "subject": rendered.subject, "text": rendered.text, "user_id": r.user_id }),
            });
        }
    }
    state.store.add_staff_notifications(&inbox).await?;
    if !mails.is_empty() {
        state.store.enqueue(&mails).await?;
    }
    Ok(())
}

fn step_of(e: &Event) -> Option<(&'static str, EscalationStep)> {
    match &e.data {
        EventData::Reminded { step, .. } => Some(("staff.reminder", *step)),
        EventData::Escalated { step, .. } => Some(("staff.escalation", *step)),
        EventData::Dispositioned { .. } | EventData::Transferred { .. } => {
            Some(("staff.assignment", EscalationStep::InstitutionAdmin))
        }
        EventData::DispositionedToUnit { .. }
        | EventData::LiaisonAssigned { .. }
        | EventData::ReporterReplied { .. }
        | EventData::Reopened { .. } => Some(("staff.assignment", EscalationStep::Liaison)),
        _ => None,
    }
}

async fn report_event(state: &AppState, job: &Job) -> Result<Handled, SendError> {
    let (r, event) = report_and_event(state, &job.payload).await?;
    let tid = r.tracking_id.as_str();
    let event = &event;
    let m = msg(Lang::Id);
    let institution = match event.to_institution.as_deref().or(r.institution.as_deref()) {
        Some(code) => state
            .names
            .institution(state, code)
            .await
            .unwrap_or_else(|_| code.to_string()),
        None => String::new(),
    };
    let due = match &event.data {
        EventData::Reminded { due_at, .. } => Some(*due_at),
        _ => r.due_at,
    };
    let mut ctx = json!({
        "tracking_id": tid,
        "title": r.title,
        "institution": institution,
        "report_url": format!("{}/staf/laporan/{tid}", public_url(state)),
        "track_url": format!("{}/lacak/{tid}", public_url(state)),
        "due_date": due.map(|d| deadline_words(d, r.zone, Lang::Id)).unwrap_or_default(),
        "stage_label": r.stage.map(|s| m.stage(s.as_str())).unwrap_or(""),
    });
    let (template, who) = match &event.data {
        EventData::OmbudsmanEscalated => {
            let who = state.store.members(None, &["oversight"]).await.map_err(transient)?;
            ("staff.assignment", who)
        }
        _ => match step_of(event) {
            Some((template, step)) => {
                if let EventData::Escalated { level, step } = &event.data
                    && let Some(o) = ctx.as_object_mut()
                {
                    o.insert("level".into(), json!(level));
                    o.insert("step_label".into(), json!(m.step(step.as_str())));
                }
                (template, recipients(state, &r, step).await.map_err(transient)?)
            }
            None => return Ok(Handled::Done),
        },
    };
    // National admins hear of each overdue report in the app only; their
    // e-mail is the daily digest, so a national backlog cannot flood them.
    let who: Vec<Recipient> = match &event.data {
        EventData::Escalated {
            step: EscalationStep::NationalAdmin,
            ..
        } => who.into_iter().map(|r| Recipient { email: None, ..r }).collect(),
        _ => who,
    };
    notify_staff(state, &job.key, event.data.kind(), template, Some(tid), &who, &ctx)
        .await
        .map_err(transient)?;
    Ok(Handled::Done)
}

/// One digest per staff member who has overdue reports in their care.
async fn digest(state: &AppState, job: &Job) -> Result<Handled, SendError> {
    let now: DateTime<Utc> = job
        .payload
        .get("at")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_else(Utc::now);
    let cal = state.calendar.get();
    let staff = state.store.staff_users(None, 10_000).await.map_err(transient)?;
    for u in staff {
        let national = u.memberships.iter().any(|m| m.role.as_str() == "national_admin");
        let scope: Vec<String> = u
            .memberships
            .iter()
            .filter(|m| !matches!(m.role.as_str(), "oversight" | "auditor" | "national_admin"))
            .map(|m| m.institution.clone())
            .collect();
        if !national && scope.is_empty() {
            continue;
        }
        let filter = ReportFilter {
            scope: (!national).then_some(scope),
            overdue_at: Some(Ts::new(now)),
            oldest_first: true,
            limit: 20,
            ..Default::default()
        };
        let count = state.store.count_reports(&filter, 10_000).await.map_err(transient)?;
        if count == 0 {
            continue;
        }
        let page = state.store.list_reports(&filter).await.map_err(transient)?;
        let items: Vec<Value> = page
            .items
            .iter()
            .map(|r| {
                let due = r.due_at.unwrap_or(now);
                json!({
                    "tracking_id": r.tracking_id.as_str(),
                    "title": r.title,
                    "due_date": deadline_words(due, r.zone, Lang::Id),
                    "overdue_days": cal.working_days_elapsed(due, now, r.zone),
                    "url": format!("{}/staf/laporan/{}", public_url(state), r.tracking_id),
                })
            })
            .collect();
        let ctx = json!({
            "count": count,
            "items": items,
            "queue_url": format!("{}/staf?terlambat=1", public_url(state)),
        });
        let who = [Recipient {
            user_id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
        }];
        notify_staff(state, &job.key, "digest", "staff.digest", None, &who, &ctx)
            .await
            .map_err(transient)?;
    }
    Ok(Handled::Done)
}
