//! The deadline scheduler: wakes the reports whose timers are due (one
//! indexed range read of `reports.wake_at`), lets the domain decide what is
//! due (`sla::due`), and commits the resulting events with their outbox
//! rows like any other change. Several schedulers may run at once: each
//! change is guarded by the report's version, so a report is woken by one
//! of them and the others skip it.
//!
//! The same pass plans the daily digest of overdue reports and picks up a
//! newly imported holiday file.

use crate::AppState;
use crate::service::outbox_for;
use chrono::{DateTime, Duration, Timelike, Utc};
use lapor_domain::calendar::Zone;
use lapor_domain::event::Actor;
use lapor_domain::ids::TrackingId;
use lapor_domain::lifecycle::{Command, Ctx, apply, decide};
use lapor_domain::sla::{self, Due};
use lapor_domain::{Error, ErrorCode};
use lapor_store::ts::Ts;
use lapor_store::{Change, OutboxMessage};

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PassStats {
    pub woken: u64,
    pub reminded: u64,
    pub escalated: u64,
    pub auto_completed: u64,
    pub ombudsman_offered: u64,
    /// Reports another scheduler (or a staff action) changed first.
    pub skipped: u64,
    pub failed: u64,
    /// Chatbot conversations that timed out (drafts went to the inbox).
    pub conversations_ended: usize,
}

/// Reports woken per pass at most; the rest wait for the next pass.
pub const PASS_LIMIT: i64 = 500;

/// Local hour (WIB) after which the day's digest goes out.
pub const DIGEST_HOUR: u32 = 7;

/// Runs one pass at `now` (the clock is a parameter so tests can drive it).
pub async fn run_pass(state: &AppState, now: DateTime<Utc>) -> Result<PassStats, Error> {
    if let Err(e) = state.calendar.refresh(state.store.as_ref()).await {
        tracing::warn!(error = %e, "holiday calendar refresh failed");
    }
    let mut stats = PassStats::default();
    match crate::channels::turn::sweep_conversations(state, now).await {
        Ok(n) => stats.conversations_ended = n,
        Err(e) => tracing::warn!(error = %e, "conversation sweep failed"),
    }
    let ids = state.store.reports_to_wake(Ts::new(now), PASS_LIMIT).await?;
    for id in ids {
        stats.woken += 1;
        match wake(state, &id, now).await {
            Ok(done) => {
                for d in done {
                    match d {
                        Due::Remind { .. } => stats.reminded += 1,
                        Due::Escalate { .. } => stats.escalated += 1,
                        Due::AutoComplete => stats.auto_completed += 1,
                        Due::OfferOmbudsman => stats.ombudsman_offered += 1,
                    }
                }
            }
            Err(e) if e.code == ErrorCode::StaleVersion => stats.skipped += 1,
            Err(e) => {
                stats.failed += 1;
                tracing::error!(report = %id, error = %e, "deadline scheduler; trying again in an hour");
                // A report that keeps failing must not hold the head of the
                // index for every pass.
                if let Err(e) = postpone(state, &id, now + Duration::hours(1)).await {
                    tracing::error!(report = %id, error = %e, "could not postpone");
                }
            }
        }
    }
    plan_digest(state, now).await?;
    Ok(stats)
}

/// Applies whatever is due to one report, in one commit.
async fn wake(state: &AppState, id: &TrackingId, now: DateTime<Utc>) -> Result<Vec<Due>, Error> {
    let Some(stored) = state.store.report(id).await? else {
        return Ok(Vec::new());
    };
    let report = stored.report;
    let cal = state.calendar.get();
    let policy = state.policy_for(&report.policy);
    let due = sla::due(&report, policy, &cal, now);
    let ctx = Ctx {
        now,
        actor: Actor::System,
        calendar: &cal,
        policy,
    };
    let mut next = report.clone();
    let mut events = Vec::new();
    let mut outbox = Vec::new();
    for d in &due {
        let cmd = match *d {
            Due::Remind { step } => Command::Remind { step },
            Due::Escalate { level, step } => Command::Escalate { level, step },
            Due::AutoComplete => Command::AutoComplete,
            Due::OfferOmbudsman => Command::OfferOmbudsman,
        };
        let event = decide(&next, &cmd, &ctx)?;
        next = apply(Some(next), &event)?;
        outbox.extend(outbox_for(&next, &event));
        events.push(event);
    }
    let mut wake_at = sla::timers(&next, policy, &cal).next();
    if events.is_empty() && wake_at.is_some_and(|w| w <= now) {
        // Never spin on a timer that decides nothing; look again later.
        tracing::warn!(report = %id, "timer due but nothing to do; postponed");
        wake_at = Some(now + Duration::hours(1));
    }
    let rollup = crate::service::rollup_of(state, &report, &events, &cal).await?;
    state
        .store
        .append(&Change {
            expected_version: report.version,
            report: next,
            events,
            outbox,
            audit: Vec::new(),
            attachments: Vec::new(),
            reindex: false,
            wake_at,
            idempotency_key: None,
            rollup,
        })
        .await?;
    Ok(due)
}

/// Moves a report's next wake-up without changing anything else.
async fn postpone(state: &AppState, id: &TrackingId, until: DateTime<Utc>) -> Result<(), Error> {
    let Some(stored) = state.store.report(id).await? else {
        return Ok(());
    };
    state
        .store
        .append(&Change {
            expected_version: stored.report.version,
            report: stored.report,
            events: Vec::new(),
            outbox: Vec::new(),
            audit: Vec::new(),
            attachments: Vec::new(),
            reindex: false,
            wake_at: Some(until),
            idempotency_key: None,
            rollup: Vec::new(),
        })
        .await
}

/// Once a day, after `DIGEST_HOUR` in Jakarta, queue the digest. The key
/// names the day, so however many schedulers run it is queued once.
async fn plan_digest(state: &AppState, now: DateTime<Utc>) -> Result<(), Error> {
    let local = now.with_timezone(&Zone::Wib.offset());
    if local.hour() < DIGEST_HOUR {
        return Ok(());
    }
    let day = local.date_naive();
    if !state.calendar.get().is_working_day(day) {
        return Ok(());
    }
    state
        .store
        .enqueue(&[OutboxMessage {
            topic: "notify.staff.digest".into(),
            key: format!("digest:{day}"),
            payload: serde_json::json!({ "day": day, "at": now }),
        }])
        .await
}

/// Runs passes every `every` until `stop` turns true.
pub async fn run(state: AppState, every: std::time::Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        match run_pass(&state, Utc::now()).await {
            Ok(s) if s.woken > 0 || s.conversations_ended > 0 => tracing::info!(?s, "deadline pass"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "deadline pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}
