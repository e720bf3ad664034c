//! The delivery workers: claim a batch of outbox jobs, run each through its
//! topic's handler (concurrently), and record the outcomes in one commit.
//!
//! Delivery is at least once: a job is marked delivered only after its
//! handler succeeded, so a worker killed in between sends it again on the
//! next claim, with the same idempotency key for the receiver to drop.
//! Failures retry with exponential back-off and jitter until the last
//! attempt, then the job is dead-lettered for an admin to inspect and
//! replay. Addresses that do not exist stop retries at once.

pub(crate) mod handlers;

use crate::AppState;
use crate::notify::SendError;
use chrono::{DateTime, Utc};
use lapor_store::ts::Ts;
use lapor_store::{Job, JobOutcome};
use rand::Rng;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long a channel message that touched no report is remembered.
pub const INBOUND_RETENTION_DAYS: i64 = 30;

pub use handlers::Handled;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs claimed at once.
    pub batch: i64,
    /// Jobs of a batch in flight together.
    pub concurrency: usize,
    /// How long a claimed job stays hidden from other workers.
    pub lease: Duration,
    /// Sleep when the queue is empty.
    pub idle: Duration,
    /// Attempts before a job is dead-lettered.
    pub max_attempts: i64,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            batch: 100,
            concurrency: 32,
            lease: Duration::from_secs(120),
            idle: Duration::from_millis(500),
            // 30 s doubling, capped at 6 h: about a day and a half of
            // retries before the dead letter.
            max_attempts: 16,
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(6 * 3600),
        }
    }
}

impl WorkerConfig {
    /// Delay before attempt `attempts + 1`: base × 2^(attempts − 1), capped,
    /// then scaled by a random factor in [0.5, 1.5) so that jobs which
    /// failed together do not retry together.
    pub fn backoff(&self, attempts: i64, jitter: f64) -> Duration {
        let exp = u32::try_from(attempts.clamp(1, 30) - 1).unwrap_or(0);
        let raw = self.backoff_base.saturating_mul(2u32.saturating_pow(exp));
        raw.min(self.backoff_max).mul_f64(0.5 + jitter.clamp(0.0, 1.0))
    }
}

/// Counters of this process, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub delivered: AtomicU64,
    pub retried: AtomicU64,
    pub dead: AtomicU64,
    pub undeliverable: AtomicU64,
}

fn outcome(cfg: &WorkerConfig, job: &Job, result: Result<Handled, SendError>, now: DateTime<Utc>) -> JobOutcome {
    match result {
        Ok(Handled::Done) => JobOutcome::Delivered {
            id: job.id,
            scrub: None,
        },
        Ok(Handled::DoneScrub(p)) => JobOutcome::Delivered {
            id: job.id,
            scrub: Some(p),
        },
        Err(SendError::Undeliverable(error)) => JobOutcome::Undeliverable { id: job.id, error },
        Err(SendError::Permanent(error)) => JobOutcome::Dead { id: job.id, error },
        Err(SendError::Transient(error)) if job.attempts >= cfg.max_attempts => JobOutcome::Dead {
            id: job.id,
            error: format!("gave up after {} attempts: {error}", job.attempts),
        },
        Err(SendError::Transient(error)) => {
            let wait = cfg.backoff(job.attempts, rand::rng().random::<f64>());
            JobOutcome::Retry {
                id: job.id,
                at: now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1)),
                error,
            }
        }
    }
}

/// Claims and runs one batch; returns how many jobs it handled.
pub async fn run_batch(
    state: &AppState,
    cfg: &WorkerConfig,
    counters: &Counters,
) -> Result<usize, lapor_domain::Error> {
    run_batch_at(state, cfg, counters, Utc::now()).await
}

/// [`run_batch`] with the clock as a parameter (tests drive it).
pub async fn run_batch_at(
    state: &AppState,
    cfg: &WorkerConfig,
    counters: &Counters,
    now: DateTime<Utc>,
) -> Result<usize, lapor_domain::Error> {
    let lease = chrono::Duration::from_std(cfg.lease).unwrap_or(chrono::Duration::minutes(2));
    let jobs = state
        .store
        .claim_jobs(Ts::new(now), Ts::new(now + lease), cfg.batch)
        .await?;
    if jobs.is_empty() {
        return Ok(0);
    }
    let sem = Arc::new(tokio::sync::Semaphore::new(cfg.concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, job) in jobs.iter().cloned().enumerate() {
        let state = state.clone();
        let sem = sem.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            (i, handlers::handle(&state, &job).await)
        });
    }
    let mut results: Vec<Option<Result<Handled, SendError>>> = vec![None; jobs.len()];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, r)) => results[i] = Some(r),
            Err(e) => tracing::error!(error = %e, "delivery task panicked"),
        }
    }
    let done_at = now.max(Utc::now());
    let outcomes: Vec<JobOutcome> = jobs
        .iter()
        .zip(results)
        .map(|(job, r)| {
            let r = r.unwrap_or_else(|| Err(SendError::Transient("handler panicked".into())));
            let o = outcome(cfg, job, r, done_at);
            let c = match &o {
                JobOutcome::Delivered { .. } => &counters.delivered,
                JobOutcome::Retry { error, .. } => {
                    tracing::warn!(topic = %job.topic, key = %job.key, attempts = job.attempts, %error, "delivery failed; will retry");
                    &counters.retried
                }
                JobOutcome::Dead { error, .. } => {
                    tracing::error!(topic = %job.topic, key = %job.key, %error, "delivery dead-lettered");
                    &counters.dead
                }
                JobOutcome::Undeliverable { error, .. } => {
                    tracing::warn!(topic = %job.topic, key = %job.key, %error, "address undeliverable");
                    &counters.undeliverable
                }
            };
            c.fetch_add(1, Ordering::Relaxed);
            o
        })
        .collect();
    state.store.finish_jobs(&outcomes, Ts::new(done_at)).await?;
    Ok(jobs.len())
}

/// Works until `stop` turns true. Delivered jobs are purged after a week.
pub async fn run(
    state: AppState,
    cfg: WorkerConfig,
    counters: Arc<Counters>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut last_purge = std::time::Instant::now();
    loop {
        if *stop.borrow() {
            return;
        }
        let handled = match run_batch(&state, &cfg, &counters).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "delivery worker");
                0
            }
        };
        if last_purge.elapsed() > Duration::from_secs(3600) {
            last_purge = std::time::Instant::now();
            let before = Ts::new(Utc::now() - chrono::Duration::days(7));
            if let Err(e) = state.store.purge_delivered(before).await {
                tracing::warn!(error = %e, "outbox purge");
            }
            // Channel messages: long past every platform's redelivery window
            // (SMTP queues retry for up to five days), and personal data we
            // need no longer. Those that filed or touched a report stay as
            // its source (replies under the tweet, threads under the mail).
            let before = Ts::new(Utc::now() - chrono::Duration::days(INBOUND_RETENTION_DAYS));
            if let Err(e) = state.store.purge_inbound(before).await {
                tracing::warn!(error = %e, "inbound purge");
            }
        }
        if handled == 0 {
            tokio::select! {
                _ = tokio::time::sleep(cfg.idle) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let c = WorkerConfig::default();
        assert_eq!(c.backoff(1, 0.5), Duration::from_secs(30));
        assert_eq!(c.backoff(2, 0.5), Duration::from_secs(60));
        assert_eq!(c.backoff(5, 0.5), Duration::from_secs(480));
        assert_eq!(c.backoff(40, 0.5), Duration::from_secs(6 * 3600));
        assert_eq!(c.backoff(1, 0.0), Duration::from_secs(15));
        assert_eq!(c.backoff(1, 1.0), Duration::from_secs(45));
        // The whole schedule spans about a day and a half.
        let total: Duration = (1..c.max_attempts).map(|a| c.backoff(a, 0.5)).sum();
        assert!(
            total > Duration::from_secs(36 * 3600) && total < Duration::from_secs(72 * 3600),
            "{total:?}"
        );
    }

    #[test]
    fn outcomes_follow_the_error_kind() {
        let c = WorkerConfig::default();
        let job = |attempts| Job {
            id: 7,
            topic: "t".into(),
            key: "k".into(),
            payload: serde_json::Value::Null,
            attempts,
            created_at: Utc::now(),
        };
        let now = Utc::now();
        assert!(matches!(
            outcome(&c, &job(1), Ok(Handled::Done), now),
            JobOutcome::Delivered { scrub: None, .. }
        ));
        assert!(matches!(
            outcome(&c, &job(1), Err(SendError::Transient("x".into())), now),
            JobOutcome::Retry { at, .. } if at > now
        ));
        assert!(matches!(
            outcome(&c, &job(c.max_attempts), Err(SendError::Transient("x".into())), now),
            JobOutcome::Dead { .. }
        ));
        assert!(matches!(
            outcome(&c, &job(1), Err(SendError::Undeliverable("x".into())), now),
            JobOutcome::Undeliverable { .. }
        ));
        assert!(matches!(
            outcome(&c, &job(1), Err(SendError::Permanent("x".into())), now),
            JobOutcome::Dead { .. }
        ));
    }
}
