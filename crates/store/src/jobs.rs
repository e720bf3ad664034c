//! Storage for the background work: the outbox as a job queue (claim with a
//! lease, finish in batches, dead letters and replay), the deadline
//! scheduler's index, the staff inbox, notification templates, addresses
//! that bounce, and holiday files imported at runtime.
//!
//! Claiming is safe with several workers at once: PostgreSQL skips rows
//! another worker holds (`FOR UPDATE SKIP LOCKED`); SQLite serialises
//! writers with `BEGIN IMMEDIATE`. A claim pushes `available_at` forward by
//! the lease, so a worker that dies mid-batch only delays its jobs; they are
//! claimed again when the lease runs out (at least once, never lost).

use crate::Result;
use crate::ts::Ts;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lapor_domain::ids::TrackingId;
use serde::Serialize;

/// One outbox message handed to a worker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: i64,
    pub topic: String,
    /// The idempotency key: receivers deduplicate on it.
    pub key: String,
    pub payload: serde_json::Value,
    /// Attempts including this one.
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Done; `scrub` replaces the payload (secrets such as a PIN must not
    /// outlive their delivery).
    Delivered { id: i64, scrub: Option<serde_json::Value> },
    /// Failed for now; try again at `at`.
    Retry { id: i64, at: DateTime<Utc>, error: String },
    /// Gave up after the last attempt, or the message can never succeed.
    Dead { id: i64, error: String },
    /// The recipient's address does not exist; retrying cannot help.
    Undeliverable { id: i64, error: String },
}

/// A message that did not get through, for inspection and replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub topic: String,
    pub key: String,
    pub payload: serde_json::Value,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
}

/// Queue depth of one topic in one state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueDepth {
    pub topic: String,
    pub state: String,
    pub count: i64,
    /// Creation time of the oldest message in this group.
    pub oldest: Option<DateTime<Utc>>,
    /// Messages in this group that failed at least once.
    pub failing: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewStaffNotification {
    /// Idempotency key: the same notification is stored once.
    pub key: String,
    pub user_id: String,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub tracking_id: Option<String>,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffNotification {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub tracking_id: Option<String>,
    pub subject: String,
    pub body: String,
    pub read: bool,
}

/// A browser or app install that opted in to Web Push for an account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PushSubscription {
    pub id: String,
    pub user_id: String,
    /// The push service's URL for this install.
    pub endpoint: String,
    /// The install's P-256 public key and auth secret (base64url).
    pub p256dh: String,
    pub auth: String,
    pub created_at: DateTime<Utc>,
}

/// A staff member to notify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub user_id: String,
    pub name: String,
    pub email: Option<String>,
}

/// An admin's version of a notification template.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredTemplate {
    pub name: String,
    pub lang: String,
    pub subject: String,
    pub body: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<String>,
}

/// A holiday file imported at runtime.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HolidayFile {
    pub id: i64,
    pub imported_at: DateTime<Utc>,
    pub source: String,
    pub csv: String,
    pub provisional: Vec<i32>,
}

#[async_trait]
pub trait Jobs: Send + Sync {
    // The outbox as a queue.
    /// Claims up to `limit` pending jobs whose time has come, oldest first,
    /// and hides them from other workers until `lease_until`.
    async fn claim_jobs(&self, now: Ts, lease_until: Ts, limit: i64) -> Result<Vec<Job>>;
    /// Records how jobs ended, in one transaction.
    async fn finish_jobs(&self, outcomes: &[JobOutcome], now: Ts) -> Result<()>;
    /// Depth of every topic in the pending, dead and undeliverable states.
    async fn queue_depths(&self) -> Result<Vec<QueueDepth>>;
    async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadLetter>>;
    /// Puts dead or undeliverable messages back in the queue (all of them
    /// when `ids` is None); returns how many.
    async fn replay_jobs(&self, ids: Option<&[i64]>, now: Ts) -> Result<u64>;
    /// Deletes delivered messages older than `before`; returns how many.
    async fn purge_delivered(&self, before: Ts) -> Result<u64>;

    // Addresses that bounce.
    async fn mark_undeliverable(&self, address: &str, reason: &str, now: Ts) -> Result<()>;
    async fn undeliverable_reason(&self, address: &str) -> Result<Option<String>>;
    async fn forget_undeliverable(&self, address: &str) -> Result<bool>;

    // Deadlines.
    /// Reports whose next timer is due at `now`, earliest first. Reads the
    /// `reports_wake` index only.
    async fn reports_to_wake(&self, now: Ts, limit: i64) -> Result<Vec<TrackingId>>;

    // Recipients.
    /// Active staff holding one of `roles` in `institution` (anywhere, for
    /// None).
    async fn members(&self, institution: Option<&str>, roles: &[&str]) -> Result<Vec<Recipient>>;

    // The staff inbox.
    /// Stores notifications, once per key; returns how many were new.
    async fn add_staff_notifications(&self, rows: &[NewStaffNotification]) -> Result<u64>;
    async fn staff_notifications(&self, user_id: &str, limit: i64) -> Result<Vec<StaffNotification>>;
    async fn unread_staff_notifications(&self, user_id: &str) -> Result<i64>;
    /// Marks one (or, for None, every) notification of the user read.
    async fn mark_staff_notifications_read(&self, user_id: &str, id: Option<i64>, now: Ts) -> Result<u64>;

    // Web Push subscriptions.
    /// Stores a subscription; an endpoint already known (re-subscribing, or
    /// another account signing in on that install) takes the new owner and
    /// keys, and is active again.
    async fn save_push_subscription(&self, s: &PushSubscription) -> Result<()>;
    /// The account's active subscriptions, oldest first.
    async fn push_subscriptions(&self, user_id: &str) -> Result<Vec<PushSubscription>>;
    /// One active subscription.
    async fn push_subscription(&self, id: &str) -> Result<Option<PushSubscription>>;
    /// Revokes a subscription (of this account only, when `user_id` is
    /// given); false when there was no such active subscription.
    async fn revoke_push_subscription(&self, id: &str, user_id: Option<&str>, now: Ts) -> Result<bool>;

    // Notification templates edited by admins.
    async fn notification_templates(&self) -> Result<Vec<StoredTemplate>>;
    async fn save_notification_template(&self, t: &StoredTemplate) -> Result<()>;
    async fn delete_notification_template(&self, name: &str, lang: &str) -> Result<bool>;

    // Holiday files.
    async fn save_holiday_file(&self, source: &str, csv: &str, provisional: &[i32], now: Ts) -> Result<i64>;
    async fn latest_holiday_file(&self) -> Result<Option<HolidayFile>>;
    /// The id of the newest holiday file (cheap, for reload checks).
    async fn holiday_file_id(&self) -> Result<Option<i64>>;
}

/// Expands `impl Jobs for $store` over `sqlx::$db`.
macro_rules! jobs_impl {
    ($store:ty, $db:ty, $row:ty) => {
        use crate::jobs::*;

        fn job_from_row(r: &$row) -> Result<Job> {
            let Json(payload): Json<serde_json::Value> = get(r, "payload")?;
            Ok(Job {
                id: get(r, "id")?,
                topic: get(r, "topic")?,
                key: get(r, "key")?,
                payload,
                attempts: get(r, "attempts")?,
                created_at: get::<Ts>(r, "created_at")?.0,
            })
        }

        fn push_row(r: &$row) -> Result<PushSubscription> {
            Ok(PushSubscription {
                id: get(r, "id")?,
                user_id: get(r, "user_id")?,
                endpoint: get(r, "endpoint")?,
                p256dh: get(r, "p256dh")?,
                auth: get(r, "auth")?,
                created_at: get::<Ts>(r, "created_at")?.0,
            })
        }

        impl $store {
            /// One statement in its own write transaction; rows affected.
            async fn write_one(&self, q: Q<'_>) -> Result<u64> {
                let mut tx = self.begin_write().await?;
                let n = q.execute(&mut *tx).await.map_err(db_err)?.rows_affected();
                tx.commit().await.map_err(db_err)?;
                Ok(n)
            }
        }

        #[async_trait::async_trait]
        impl crate::jobs::Jobs for $store {
            async fn claim_jobs(&self, now: Ts, lease_until: Ts, limit: i64) -> Result<Vec<Job>> {
                let mut tx = self.begin_write().await?;
                let sql = format!(
                    "UPDATE outbox SET available_at = $2, attempts = attempts + 1, last_attempt_at = $1 \
                     WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND available_at <= $1 \
                     ORDER BY available_at, id LIMIT $3{}) \
                     RETURNING id, topic, key, payload, attempts, created_at",
                    <$store>::SKIP_LOCKED
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(now)
                    .bind(lease_until)
                    .bind(limit.clamp(1, 1000))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
                jobs.sort_by_key(|j| j.id);
                Ok(jobs)
            }

            async fn finish_jobs(&self, outcomes: &[JobOutcome], now: Ts) -> Result<()> {
                if outcomes.is_empty() {
                    return Ok(());
                }
                let mut tx = self.begin_write().await?;
                // Plain deliveries, the bulk of the work, in one statement.
                let plain: Vec<i64> = outcomes
                    .iter()
                    .filter_map(|o| match o {
                        JobOutcome::Delivered { id, scrub: None } => Some(*id),
                        _ => None,
                    })
                    .collect();
                for chunk in plain.chunks(500) {
                    let sql = format!(
                        "UPDATE outbox SET state = 'delivered', delivered_at = $1, last_error = NULL WHERE id IN ({})",
                        (0..chunk.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ")
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    q.execute(&mut *tx).await.map_err(db_err)?;
                }
                for o in outcomes {
                    let q = match o {
                        JobOutcome::Delivered { scrub: None, .. } => continue,
                        JobOutcome::Delivered { id, scrub: Some(p) } => sqlx::query(
                            "UPDATE outbox SET state = 'delivered', delivered_at = $1, last_error = NULL, payload = $3 WHERE id = $2",
                        )
                        .bind(now)
                        .bind(*id)
                        .bind(Json(p)),
                        JobOutcome::Retry { id, at, error } => {
                            sqlx::query("UPDATE outbox SET available_at = $1, last_error = $3 WHERE id = $2 AND state = 'pending'")
                                .bind(Ts::new(*at))
                                .bind(*id)
                                .bind(error.as_str())
                        }
                        JobOutcome::Dead { id, error } => {
                            sqlx::query("UPDATE outbox SET state = 'dead', last_error = $3, available_at = $1 WHERE id = $2")
                                .bind(now)
                                .bind(*id)
                                .bind(error.as_str())
                        }
                        JobOutcome::Undeliverable { id, error } => sqlx::query(
                            "UPDATE outbox SET state = 'undeliverable', last_error = $3, available_at = $1 WHERE id = $2",
                        )
                        .bind(now)
                        .bind(*id)
                        .bind(error.as_str()),
                    };
                    q.execute(&mut *tx).await.map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn queue_depths(&self) -> Result<Vec<QueueDepth>> {
                let rows = sqlx::query(
                    "SELECT topic, state, COUNT(*) AS n, MIN(created_at) AS oldest, \
                     SUM(CASE WHEN attempts > 0 AND last_error IS NOT NULL THEN 1 ELSE 0 END) AS failing \
                     FROM outbox WHERE state IN ('pending', 'dead', 'undeliverable') \
                     GROUP BY topic, state ORDER BY topic, state",
                )
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(QueueDepth {
                            topic: get(r, "topic")?,
                            state: get(r, "state")?,
                            count: get(r, "n")?,
                            oldest: get::<Option<Ts>>(r, "oldest")?.map(|t| t.0),
                            failing: get::<Option<i64>>(r, "failing")?.unwrap_or(0),
                        })
                    })
                    .collect()
            }

            async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadLetter>> {
                let rows = sqlx::query(
                    "SELECT id, topic, key, payload, state, attempts, last_error, created_at, last_attempt_at \
                     FROM outbox WHERE state IN ('dead', 'undeliverable') ORDER BY id DESC LIMIT $1",
                )
                .bind(limit.clamp(1, 1000))
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        let Json(payload): Json<serde_json::Value> = get(r, "payload")?;
                        Ok(DeadLetter {
                            id: get(r, "id")?,
                            topic: get(r, "topic")?,
                            key: get(r, "key")?,
                            payload,
                            state: get(r, "state")?,
                            attempts: get(r, "attempts")?,
                            last_error: get(r, "last_error")?,
                            created_at: get::<Ts>(r, "created_at")?.0,
                            last_attempt_at: get::<Option<Ts>>(r, "last_attempt_at")?.map(|t| t.0),
                        })
                    })
                    .collect()
            }

            async fn replay_jobs(&self, ids: Option<&[i64]>, now: Ts) -> Result<u64> {
                let mut tx = self.begin_write().await?;
                let base = "UPDATE outbox SET state = 'pending', attempts = 0, available_at = $1 \
                            WHERE state IN ('dead', 'undeliverable')";
                let n = match ids {
                    None => sqlx::query(base).bind(now).execute(&mut *tx).await.map_err(db_err)?.rows_affected(),
                    Some([]) => 0,
                    Some(ids) => {
                        let sql = format!(
                            "{base} AND id IN ({})",
                            (0..ids.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ")
                        );
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
                        for id in ids {
                            q = q.bind(*id);
                        }
                        q.execute(&mut *tx).await.map_err(db_err)?.rows_affected()
                    }
                };
                tx.commit().await.map_err(db_err)?;
                Ok(n)
            }

            async fn purge_delivered(&self, before: Ts) -> Result<u64> {
                self.write_one(sqlx::query("DELETE FROM outbox WHERE state = 'delivered' AND delivered_at < $1").bind(before))
                    .await
            }

            async fn mark_undeliverable(&self, address: &str, reason: &str, now: Ts) -> Result<()> {
                self.write_one(
                    sqlx::query(
                        "INSERT INTO undeliverable_addresses (address, reason, at) VALUES ($1, $2, $3) \
                         ON CONFLICT (address) DO UPDATE SET reason = $2, at = $3",
                    )
                    .bind(address.to_lowercase())
                    .bind(reason)
                    .bind(now),
                )
                .await
                .map(|_| ())
            }

            async fn undeliverable_reason(&self, address: &str) -> Result<Option<String>> {
                sqlx::query_scalar("SELECT reason FROM undeliverable_addresses WHERE address = $1")
                    .bind(address.to_lowercase())
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)
            }

            async fn forget_undeliverable(&self, address: &str) -> Result<bool> {
                let q = sqlx::query("DELETE FROM undeliverable_addresses WHERE address = $1").bind(address.to_lowercase());
                Ok(self.write_one(q).await? > 0)
            }

            async fn reports_to_wake(&self, now: Ts, limit: i64) -> Result<Vec<TrackingId>> {
                let ids: Vec<String> =
                    sqlx::query_scalar("SELECT tracking_id FROM reports WHERE wake_at <= $1 ORDER BY wake_at LIMIT $2")
                        .bind(now)
                        .bind(limit.clamp(1, 10_000))
                        .fetch_all(&self.reader)
                        .await
                        .map_err(db_err)?;
                ids.iter().map(|s| TrackingId::parse(s)).collect()
            }

            async fn members(&self, institution: Option<&str>, roles: &[&str]) -> Result<Vec<Recipient>> {
                if roles.is_empty() {
                    return Ok(Vec::new());
                }
                let role_ps: Vec<String> = (0..roles.len()).map(|i| format!("${}", i + 2)).collect();
                let sql = format!(
                    "SELECT DISTINCT u.id, u.name, u.email FROM users u JOIN memberships m ON m.user_id = u.id \
                     WHERE u.disabled = FALSE AND ($1 IS NULL OR m.institution = $1) AND m.role IN ({}) \
                     ORDER BY u.id LIMIT 500",
                    role_ps.join(", ")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(institution);
                for r in roles {
                    q = q.bind(*r);
                }
                let rows = q.fetch_all(&self.reader).await.map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(Recipient {
                            user_id: get(r, "id")?,
                            name: get(r, "name")?,
                            email: get(r, "email")?,
                        })
                    })
                    .collect()
            }

            async fn save_push_subscription(&self, s: &PushSubscription) -> Result<()> {
                let q = sqlx::query(
                    "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, NULL) \
                     ON CONFLICT (endpoint) DO UPDATE SET id = excluded.id, user_id = excluded.user_id, p256dh = excluded.p256dh, \
                     auth = excluded.auth, created_at = excluded.created_at, revoked_at = NULL",
                )
                .bind(s.id.as_str())
                .bind(s.user_id.as_str())
                .bind(s.endpoint.as_str())
                .bind(s.p256dh.as_str())
                .bind(s.auth.as_str())
                .bind(Ts::new(s.created_at));
                self.write_one(q).await?;
                Ok(())
            }

            async fn push_subscriptions(&self, user_id: &str) -> Result<Vec<PushSubscription>> {
                let rows = sqlx::query(
                    "SELECT id, user_id, endpoint, p256dh, auth, created_at FROM push_subscriptions \
                     WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, id LIMIT 50",
                )
                .bind(user_id)
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter().map(push_row).collect()
            }

            async fn push_subscription(&self, id: &str) -> Result<Option<PushSubscription>> {
                let row = sqlx::query(
                    "SELECT id, user_id, endpoint, p256dh, auth, created_at FROM push_subscriptions \
                     WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(id)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
                row.as_ref().map(push_row).transpose()
            }

            async fn revoke_push_subscription(&self, id: &str, user_id: Option<&str>, now: Ts) -> Result<bool> {
                let q = sqlx::query(
                    "UPDATE push_subscriptions SET revoked_at = $1 \
                     WHERE id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR user_id = $3)",
                )
                .bind(now)
                .bind(id)
                .bind(user_id);
                Ok(self.write_one(q).await? > 0)
            }

            async fn add_staff_notifications(&self, rows: &[NewStaffNotification]) -> Result<u64> {
                if rows.is_empty() {
                    return Ok(0);
                }
                let mut tx = self.begin_write().await?;
                let mut n = 0;
                for r in rows {
                    n += sqlx::query(
                        "INSERT INTO staff_notifications (key, user_id, at, kind, tracking_id, subject, body) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(r.key.as_str())
                    .bind(r.user_id.as_str())
                    .bind(Ts::new(r.at))
                    .bind(r.kind.as_str())
                    .bind(r.tracking_id.as_deref())
                    .bind(r.subject.as_str())
                    .bind(r.body.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                }
                tx.commit().await.map_err(db_err)?;
                Ok(n)
            }

            async fn staff_notifications(&self, user_id: &str, limit: i64) -> Result<Vec<StaffNotification>> {
                let rows = sqlx::query(
                    "SELECT id, at, kind, tracking_id, subject, body, read_at FROM staff_notifications \
                     WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
                )
                .bind(user_id)
                .bind(limit.clamp(1, 500))
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(StaffNotification {
                            id: get(r, "id")?,
                            at: get::<Ts>(r, "at")?.0,
                            kind: get(r, "kind")?,
                            tracking_id: get(r, "tracking_id")?,
                            subject: get(r, "subject")?,
                            body: get(r, "body")?,
                            read: get::<Option<Ts>>(r, "read_at")?.is_some(),
                        })
                    })
                    .collect()
            }

            async fn unread_staff_notifications(&self, user_id: &str) -> Result<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM staff_notifications WHERE user_id = $1 AND read_at IS NULL")
                    .bind(user_id)
                    .fetch_one(&self.reader)
                    .await
                    .map_err(db_err)
            }

            async fn mark_staff_notifications_read(&self, user_id: &str, id: Option<i64>, now: Ts) -> Result<u64> {
                self.write_one(
                    sqlx::query(
                        "UPDATE staff_notifications SET read_at = $2 \
                         WHERE user_id = $1 AND read_at IS NULL AND ($3 IS NULL OR id = $3)",
                    )
                    .bind(user_id)
                    .bind(now)
                    .bind(id),
                )
                .await
            }

            async fn notification_templates(&self) -> Result<Vec<StoredTemplate>> {
                let rows = sqlx::query(
                    "SELECT name, lang, subject, body, updated_at, updated_by FROM notification_templates ORDER BY name, lang",
                )
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(StoredTemplate {
                            name: get(r, "name")?,
                            lang: get(r, "lang")?,
                            subject: get(r, "subject")?,
                            body: get(r, "body")?,
                            updated_at: get::<Ts>(r, "updated_at")?.0,
                            updated_by: get(r, "updated_by")?,
                        })
                    })
                    .collect()
            }

            async fn save_notification_template(&self, t: &StoredTemplate) -> Result<()> {
                self.write_one(
                    sqlx::query(
                        "INSERT INTO notification_templates (name, lang, subject, body, updated_at, updated_by) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name, lang) \
                         DO UPDATE SET subject = $3, body = $4, updated_at = $5, updated_by = $6",
                    )
                    .bind(t.name.as_str())
                    .bind(t.lang.as_str())
                    .bind(t.subject.as_str())
                    .bind(t.body.as_str())
                    .bind(Ts::new(t.updated_at))
                    .bind(t.updated_by.as_deref()),
                )
                .await
                .map(|_| ())
            }

            async fn delete_notification_template(&self, name: &str, lang: &str) -> Result<bool> {
                let q = sqlx::query("DELETE FROM notification_templates WHERE name = $1 AND lang = $2").bind(name).bind(lang);
                Ok(self.write_one(q).await? > 0)
            }

            async fn save_holiday_file(&self, source: &str, csv: &str, provisional: &[i32], now: Ts) -> Result<i64> {
                let mut tx = self.begin_write().await?;
                let years: Vec<String> = provisional.iter().map(|y| y.to_string()).collect();
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO holiday_files (imported_at, source, csv, provisional) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(now)
                .bind(source)
                .bind(csv)
                .bind(years.join(","))
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(id)
            }

            async fn latest_holiday_file(&self) -> Result<Option<HolidayFile>> {
                let row = sqlx::query(
                    "SELECT id, imported_at, source, csv, provisional FROM holiday_files ORDER BY id DESC LIMIT 1",
                )
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
                row.map(|r| {
                    let years: String = get(&r, "provisional")?;
                    Ok(HolidayFile {
                        id: get(&r, "id")?,
                        imported_at: get::<Ts>(&r, "imported_at")?.0,
                        source: get(&r, "source")?,
                        csv: get(&r, "csv")?,
                        provisional: years.split(',').filter_map(|y| y.trim().parse().ok()).collect(),
                    })
                })
                .transpose()
            }

            async fn holiday_file_id(&self) -> Result<Option<i64>> {
                sqlx::query_scalar("SELECT MAX(id) FROM holiday_files")
                    .fetch_one(&self.reader)
                    .await
                    .map_err(db_err)
            }
        }
    };
}
pub(crate) use jobs_impl;
