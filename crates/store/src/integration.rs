//! Storage for integration: connected institutions, API clients and their
//! keys, webhook subscriptions with their delivery queue and log, and the
//! per-institution changes feed.
//!
//! Webhook deliveries and feed rows are written by the same statement that
//! writes the events (see `fan_out` in the backend), so an event that
//! committed is always on its way to every subscriber, and nothing is sent
//! for an event that rolled back.

use crate::Result;
use crate::ts::Ts;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lapor_domain::event::Event;
use serde::{Deserialize, Serialize};

/// How an institution handles its reports.
pub const MODE_NATIVE: &str = "native";
pub const MODE_CONNECTED: &str = "connected";

/// A system that speaks for one institution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiClient {
    pub id: String,
    pub institution: String,
    /// The service account it acts as.
    pub user_id: String,
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key or access token to store (its digest only).
#[derive(Debug, Clone, PartialEq)]
pub struct NewApiKey {
    pub key_hash: String,
    pub client_id: String,
    /// `key` (long-lived; also the OAuth2 client secret) or `access`.
    pub kind: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Fewer scopes than the client's (OAuth2 `scope`); None: all of them.
    pub scopes: Option<String>,
}

/// What lists show of a key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKeyInfo {
    pub prefix: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A key that authenticated: whose it is and how.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyHolder {
    pub client: ApiClient,
    pub kind: String,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The scopes this key carries (the client's unless narrowed).
    pub scopes: String,
}

/// A webhook signing secret and when it stops being used (after rotation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningSecret {
    pub secret: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookSubscription {
    pub id: String,
    pub institution: String,
    pub url: String,
    /// Newest first.
    #[serde(skip)]
    pub secrets: Vec<SigningSecret>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
}

impl WebhookSubscription {
    /// The secrets that still sign at `now`.
    pub fn live_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        self.secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|t| t > now))
            .map(|s| s.secret.as_str())
            .collect()
    }
}

/// One claimed delivery, with what the sender needs.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookJob {
    pub delivery_id: i64,
    pub subscription: WebhookSubscription,
    pub event_id: i64,
    pub event: Event,
    /// Attempts including this one.
    pub attempts: i64,
    pub first_attempt_at: DateTime<Utc>,
}

/// One try at a delivery, for the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookAttempt {
    pub delivery_id: i64,
    pub attempt: i64,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status; None when no response came.
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeliveryNext {
    Delivered,
    Retry(DateTime<Utc>),
    Dead,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryOutcome {
    pub attempt: WebhookAttempt,
    pub next: DeliveryNext,
}

/// A delivery as its log shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookDelivery {
    pub id: i64,
    pub subscription_id: String,
    pub event_id: i64,
    pub tracking_id: String,
    pub seq: i64,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_status: Option<i64>,
    pub last_latency_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// A report sent upward to another complaint system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpstreamRef {
    pub system: String,
    pub tracking_id: String,
    pub remote_id: String,
    /// Our events up to this seq have been sent.
    pub sent_seq: i64,
    /// Their follow-up logs brought back so far.
    pub logs_seen: i64,
    pub closed: bool,
    pub updated_at: DateTime<Utc>,
}

/// An institution of the upstream system, and ours it matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpstreamInstitution {
    pub remote_id: i64,
    pub name: String,
    pub local_code: Option<String>,
}

/// A place in an institution's changes feed (see the migration for why it
/// has two parts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct FeedPosition {
    pub tx: u64,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    pub position: FeedPosition,
    pub event_id: i64,
    pub event: Event,
}

#[async_trait]
pub trait Integrations: Send + Sync {
    /// Sets `native` or `connected`; false when the institution is unknown.
    async fn set_integration_mode(&self, institution: &str, mode: &str) -> Result<bool>;
    async fn integration_mode(&self, institution: &str) -> Result<Option<String>>;
    /// Connected institutions, by code.
    async fn connected_institutions(&self) -> Result<Vec<String>>;

    /// Creates the client, its service account (an institution admin of the
    /// client's institution who cannot log in) and its first key, together.
    async fn create_api_client(&self, client: &ApiClient, key: &NewApiKey) -> Result<()>;
    async fn api_client(&self, id: &str) -> Result<Option<ApiClient>>;
    /// Clients of one institution, or of all (None); newest first.
    async fn api_clients(&self, institution: Option<&str>) -> Result<Vec<ApiClient>>;
    async fn api_keys(&self, client_id: &str) -> Result<Vec<ApiKeyInfo>>;
    /// Adds a key; with `retire_others_at`, the client's other long-lived
    /// keys stop working at that time (rotation with an overlap).
    async fn add_api_key(&self, key: &NewApiKey, retire_others_at: Option<Ts>) -> Result<()>;
    /// The live client of a key digest at `now`.
    async fn key_holder(&self, key_hash: &str, now: Ts) -> Result<Option<KeyHolder>>;
    async fn touch_api_key(&self, key_hash: &str, now: Ts) -> Result<()>;
    /// Revokes the client and disables its service account.
    async fn revoke_api_client(&self, id: &str, now: Ts) -> Result<bool>;

    async fn create_subscription(&self, s: &WebhookSubscription) -> Result<()>;
    async fn subscription(&self, id: &str) -> Result<Option<WebhookSubscription>>;
    async fn subscriptions(&self, institution: Option<&str>) -> Result<Vec<WebhookSubscription>>;
    async fn set_subscription_secrets(&self, id: &str, secrets: &[SigningSecret]) -> Result<bool>;
    /// Stops deliveries; pending ones stay in the log as they are.
    async fn deactivate_subscription(&self, id: &str) -> Result<bool>;

    /// Claims up to `limit` due deliveries, each the earliest pending event
    /// of its report for its subscription (so a report's events arrive in
    /// order), and hides them until `lease_until`.
    async fn claim_webhook_deliveries(&self, now: Ts, lease_until: Ts, limit: i64) -> Result<Vec<WebhookJob>>;
    /// Records attempts and their consequences, in one transaction.
    async fn finish_webhook_deliveries(&self, outcomes: &[DeliveryOutcome]) -> Result<()>;
    /// The log of a subscription, newest first; `before` pages back.
    async fn webhook_deliveries(
        &self,
        subscription_id: &str,
        state: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>>;
    async fn webhook_attempts(&self, delivery_id: i64) -> Result<Vec<WebhookAttempt>>;
    /// Queues dead deliveries of a subscription again (the given ones, or
    /// all); their three days start over. Returns how many.
    async fn replay_webhook_deliveries(&self, subscription_id: &str, ids: Option<&[i64]>, now: Ts) -> Result<u64>;
    /// Deletes finished deliveries (and their attempts) older than `before`.
    async fn purge_webhook_deliveries(&self, before: Ts) -> Result<u64>;

    /// Changes of a connected institution after `after`, oldest first.
    async fn changes(&self, institution: &str, after: FeedPosition, limit: i64) -> Result<Vec<FeedEntry>>;

    /// The report filed under an idempotency key, if any.
    async fn report_by_idempotency_key(&self, key: &str) -> Result<Option<lapor_domain::ids::TrackingId>>;
    /// The idempotency key a report was filed under, if any.
    async fn idempotency_key_of(&self, id: &lapor_domain::ids::TrackingId) -> Result<Option<String>>;
    /// Public events on public reports of `root`'s subtree in [start, end),
    /// oldest first, with their event ids (Open311 updates).
    async fn public_updates(&self, root: &str, start: Ts, end: Ts, limit: i64) -> Result<Vec<(i64, Event)>>;

    /// Verified reports submitted since `since` that were not yet sent to
    /// `system`, oldest first; with `root`, only those held in its subtree.
    async fn unforwarded_reports(
        &self,
        system: &str,
        root: Option<&str>,
        since: Ts,
        limit: i64,
    ) -> Result<Vec<lapor_domain::ids::TrackingId>>;
    /// Reports sent to `system` that are still followed, least recently
    /// looked at first.
    async fn open_upstream_refs(&self, system: &str, limit: i64) -> Result<Vec<UpstreamRef>>;
    async fn save_upstream_ref(&self, r: &UpstreamRef) -> Result<()>;
    /// The local report a remote id stands for, if it was mapped.
    async fn upstream_ref_by_remote(&self, system: &str, remote_id: &str) -> Result<Option<UpstreamRef>>;
    /// Replaces the upstream system's institution list.
    async fn save_upstream_institutions(&self, system: &str, rows: &[UpstreamInstitution]) -> Result<u64>;
    /// The upstream id of one of our institutions, if it was matched.
    async fn upstream_institution(&self, system: &str, local_code: &str) -> Result<Option<i64>>;
}

/// Expands `impl Integrations for $store` over `sqlx::$db`.
macro_rules! integrations_impl {
    ($store:ty, $db:ty, $row:ty) => {
        use crate::integration::*;

        const CLIENT_COLS: &str = "id, institution, user_id, name, scopes, created_at, created_by, revoked_at";
        const SUBSCRIPTION_COLS: &str = "id, institution, url, secrets, active, created_at, created_by";
        const EVENT_COLS_WITH_ID: &str = "id, tracking_id, seq, at, actor, from_status, to_status, from_institution, \
             to_institution, visibility, body, data";

        fn client_from_row(r: &$row) -> Result<ApiClient> {
            Ok(ApiClient {
                id: get(r, "id")?,
                institution: get(r, "institution")?,
                user_id: get(r, "user_id")?,
                name: get(r, "name")?,
                scopes: get(r, "scopes")?,
                created_at: get::<Ts>(r, "created_at")?.0,
                created_by: get(r, "created_by")?,
                revoked_at: get::<Option<Ts>>(r, "revoked_at")?.map(|t| t.0),
            })
        }

        fn subscription_from_row(r: &$row) -> Result<WebhookSubscription> {
            let Json(secrets): Json<Vec<SigningSecret>> = get(r, "secrets")?;
            Ok(WebhookSubscription {
                id: get(r, "id")?,
                institution: get(r, "institution")?,
                url: get(r, "url")?,
                secrets,
                active: get(r, "active")?,
                created_at: get::<Ts>(r, "created_at")?.0,
                created_by: get(r, "created_by")?,
            })
        }

        fn delivery_from_row(r: &$row) -> Result<WebhookDelivery> {
            let state: String = get(r, "state")?;
            let available: Ts = get(r, "available_at")?;
            Ok(WebhookDelivery {
                id: get(r, "id")?,
                subscription_id: get(r, "subscription_id")?,
                event_id: get(r, "event_id")?,
                tracking_id: get(r, "tracking_id")?,
                seq: get(r, "seq")?,
                next_attempt_at: (state == "pending").then_some(available.0),
                state,
                attempts: get(r, "attempts")?,
                created_at: get::<Ts>(r, "created_at")?.0,
                finished_at: get::<Option<Ts>>(r, "finished_at")?.map(|t| t.0),
                last_status: get(r, "last_status")?,
                last_latency_ms: get(r, "last_latency_ms")?,
                last_error: get(r, "last_error")?,
            })
        }

        fn upstream_ref_from_row(r: &$row) -> Result<UpstreamRef> {
            Ok(UpstreamRef {
                system: get(r, "system")?,
                tracking_id: get(r, "tracking_id")?,
                remote_id: get(r, "remote_id")?,
                sent_seq: get(r, "sent_seq")?,
                logs_seen: get(r, "logs_seen")?,
                closed: get(r, "closed")?,
                updated_at: get::<Ts>(r, "updated_at")?.0,
            })
        }

        /// Queues the given events for every connected institution and every
        /// webhook subscription they concern: the institution the report is
        /// with (or its unit), and the ones a transfer moves it between.
        /// Runs inside the transaction that wrote the events.
        async fn fan_out(tx: &mut sqlx::Transaction<'static, $db>, event_ids: &[i64]) -> Result<()> {
            for chunk in event_ids.chunks(500) {
                let list = bind_params(1, chunk.len());
                let concerned = "IN (r.institution, r.unit, e.from_institution, e.to_institution)";
                let feed = format!(
                    "INSERT INTO integration_changes (institution, event_id) \
                     SELECT DISTINCT i.code, e.id FROM report_events e JOIN reports r ON r.tracking_id = e.tracking_id \
                     JOIN institutions i ON i.integration_mode = 'connected' AND i.code {concerned} \
                     WHERE e.id IN ({list}) ORDER BY e.id"
                );
                let hooks = format!(
                    "INSERT INTO webhook_deliveries (subscription_id, event_id, tracking_id, seq, state, attempts, created_at, available_at) \
                     SELECT DISTINCT s.id, e.id, e.tracking_id, e.seq, 'pending', 0, e.at, e.at \
                     FROM report_events e JOIN reports r ON r.tracking_id = e.tracking_id \
                     JOIN webhook_subscriptions s ON s.active AND s.institution {concerned} \
                     WHERE e.id IN ({list})"
                );
                for sql in [feed, hooks] {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    q.execute(&mut **tx).await.map_err(db_err)?;
                }
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl crate::integration::Integrations for $store {
            async fn set_integration_mode(&self, institution: &str, mode: &str) -> Result<bool> {
                if mode != MODE_NATIVE && mode != MODE_CONNECTED {
                    return Err(Error::validation(format!("integration mode {mode:?}")));
                }
                let n = self
                    .write_one(
                        sqlx::query("UPDATE institutions SET integration_mode = $2 WHERE code = $1")
                            .bind(institution)
                            .bind(mode),
                    )
                    .await?;
                Ok(n == 1)
            }

            async fn integration_mode(&self, institution: &str) -> Result<Option<String>> {
                sqlx::query_scalar("SELECT integration_mode FROM institutions WHERE code = $1")
                    .bind(institution)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)
            }

            async fn connected_institutions(&self) -> Result<Vec<String>> {
                sqlx::query_scalar("SELECT code FROM institutions WHERE integration_mode = 'connected' ORDER BY code")
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)
            }

            async fn create_api_client(&self, c: &ApiClient, key: &NewApiKey) -> Result<()> {
                let mut tx = self.begin_write().await?;
                // The password hash is not a hash: no password verifies
                // against it, and the account has no login name anyway.
                sqlx::query(
                    "INSERT INTO users (id, email, phone, name, password_hash, is_staff, created_at) \
                     VALUES ($1, NULL, NULL, $2, '!', $3, $4)",
                )
                .bind(c.user_id.as_str())
                .bind(format!("Integrasi: {}", c.name))
                .bind(true)
                .bind(Ts::new(c.created_at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                sqlx::query("INSERT INTO memberships (user_id, role, institution) VALUES ($1, $2, $3)")
                    .bind(c.user_id.as_str())
                    .bind(Role::InstitutionAdmin.as_str())
                    .bind(c.institution.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let sql = format!("INSERT INTO api_clients ({CLIENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(c.id.as_str())
                    .bind(c.institution.as_str())
                    .bind(c.user_id.as_str())
                    .bind(c.name.as_str())
                    .bind(c.scopes.as_str())
                    .bind(Ts::new(c.created_at))
                    .bind(c.created_by.as_deref())
                    .bind(opt_ts(c.revoked_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                insert_key(&mut tx, key).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn api_client(&self, id: &str) -> Result<Option<ApiClient>> {
                let sql = format!("SELECT {CLIENT_COLS} FROM api_clients WHERE id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(client_from_row).transpose()
            }

            async fn api_clients(&self, institution: Option<&str>) -> Result<Vec<ApiClient>> {
                let sql = format!(
                    "SELECT {CLIENT_COLS} FROM api_clients WHERE ($1 IS NULL OR institution = $1) ORDER BY created_at DESC, id"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(institution)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(client_from_row).collect()
            }

            async fn api_keys(&self, client_id: &str) -> Result<Vec<ApiKeyInfo>> {
                let rows = sqlx::query(
                    "SELECT prefix, kind, created_at, expires_at, last_used_at FROM api_keys \
                     WHERE client_id = $1 AND kind = 'key' ORDER BY created_at DESC",
                )
                .bind(client_id)
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(ApiKeyInfo {
                            prefix: get(r, "prefix")?,
                            kind: get(r, "kind")?,
                            created_at: get::<Ts>(r, "created_at")?.0,
                            expires_at: get::<Option<Ts>>(r, "expires_at")?.map(|t| t.0),
                            last_used_at: get::<Option<Ts>>(r, "last_used_at")?.map(|t| t.0),
                        })
                    })
                    .collect()
            }

            async fn add_api_key(&self, key: &NewApiKey, retire_others_at: Option<Ts>) -> Result<()> {
                let mut tx = self.begin_write().await?;
                insert_key(&mut tx, key).await?;
                if let Some(at) = retire_others_at {
                    sqlx::query(
                        "UPDATE api_keys SET expires_at = $3 WHERE client_id = $1 AND kind = 'key' AND key_hash <> $2 \
                         AND (expires_at IS NULL OR expires_at > $3)",
                    )
                    .bind(key.client_id.as_str())
                    .bind(key.key_hash.as_str())
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                // Expired access tokens go as new ones come.
                sqlx::query("DELETE FROM api_keys WHERE client_id = $1 AND kind = 'access' AND expires_at <= $2")
                    .bind(key.client_id.as_str())
                    .bind(Ts::new(key.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn key_holder(&self, key_hash: &str, now: Ts) -> Result<Option<KeyHolder>> {
                let sql = format!(
                    "SELECT {}, k.kind AS key_kind, k.last_used_at AS key_used, k.scopes AS key_scopes FROM api_keys k \
                     JOIN api_clients c ON c.id = k.client_id \
                     WHERE k.key_hash = $1 AND c.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2)",
                    CLIENT_COLS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ")
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(key_hash)
                    .bind(now)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                match row {
                    None => Ok(None),
                    Some(r) => {
                        let client = client_from_row(&r)?;
                        let scopes: Option<String> = get(&r, "key_scopes")?;
                        Ok(Some(KeyHolder {
                            scopes: scopes.unwrap_or_else(|| client.scopes.clone()),
                            client,
                            kind: get(&r, "key_kind")?,
                            last_used_at: get::<Option<Ts>>(&r, "key_used")?.map(|t| t.0),
                        }))
                    }
                }
            }

            async fn touch_api_key(&self, key_hash: &str, now: Ts) -> Result<()> {
                self.write_one(sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE key_hash = $1").bind(key_hash).bind(now))
                    .await
                    .map(|_| ())
            }

            async fn revoke_api_client(&self, id: &str, now: Ts) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query("UPDATE api_clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                sqlx::query("UPDATE users SET disabled = $2 WHERE id = (SELECT user_id FROM api_clients WHERE id = $1)")
                    .bind(id)
                    .bind(true)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                sqlx::query("DELETE FROM api_keys WHERE client_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(n == 1)
            }

            async fn create_subscription(&self, s: &WebhookSubscription) -> Result<()> {
                let sql = format!("INSERT INTO webhook_subscriptions ({SUBSCRIPTION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
                self.write_one(
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(s.id.as_str())
                        .bind(s.institution.as_str())
                        .bind(s.url.as_str())
                        .bind(Json(&s.secrets))
                        .bind(s.active)
                        .bind(Ts::new(s.created_at))
                        .bind(s.created_by.as_deref()),
                )
                .await
                .map(|_| ())
            }

            async fn subscription(&self, id: &str) -> Result<Option<WebhookSubscription>> {
                let sql = format!("SELECT {SUBSCRIPTION_COLS} FROM webhook_subscriptions WHERE id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(subscription_from_row).transpose()
            }

            async fn subscriptions(&self, institution: Option<&str>) -> Result<Vec<WebhookSubscription>> {
                let sql = format!(
                    "SELECT {SUBSCRIPTION_COLS} FROM webhook_subscriptions WHERE ($1 IS NULL OR institution = $1) \
                     ORDER BY created_at DESC, id"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(institution)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(subscription_from_row).collect()
            }

            async fn set_subscription_secrets(&self, id: &str, secrets: &[SigningSecret]) -> Result<bool> {
                let n = self
                    .write_one(sqlx::query("UPDATE webhook_subscriptions SET secrets = $2 WHERE id = $1").bind(id).bind(Json(secrets)))
                    .await?;
                Ok(n == 1)
            }

            async fn deactivate_subscription(&self, id: &str) -> Result<bool> {
                let n = self
                    .write_one(
                        sqlx::query("UPDATE webhook_subscriptions SET active = $2 WHERE id = $1 AND active").bind(id).bind(false),
                    )
                    .await?;
                Ok(n == 1)
            }

            async fn claim_webhook_deliveries(&self, now: Ts, lease_until: Ts, limit: i64) -> Result<Vec<WebhookJob>> {
                let mut tx = self.begin_write().await?;
                let sql = format!(
                    "UPDATE webhook_deliveries SET available_at = $2, attempts = attempts + 1, \
                     first_attempt_at = COALESCE(first_attempt_at, $1) \
                     WHERE id IN (SELECT d.id FROM webhook_deliveries d WHERE d.state = 'pending' AND d.available_at <= $1 \
                     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.subscription_id = d.subscription_id \
                     AND p.tracking_id = d.tracking_id AND p.state = 'pending' AND p.seq < d.seq) \
                     ORDER BY d.available_at, d.id LIMIT $3{}) \
                     RETURNING id, subscription_id, event_id, attempts, first_attempt_at",
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
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let mut claimed: Vec<(i64, String, i64, i64, Ts)> = Vec::with_capacity(rows.len());
                for r in &rows {
                    claimed.push((
                        get(r, "id")?,
                        get(r, "subscription_id")?,
                        get(r, "event_id")?,
                        get(r, "attempts")?,
                        get::<Option<Ts>>(r, "first_attempt_at")?.unwrap_or(now),
                    ));
                }
                // The events and subscriptions they name, in two reads.
                let mut events = std::collections::HashMap::new();
                let ids: Vec<i64> = claimed.iter().map(|c| c.2).collect();
                for chunk in ids.chunks(500) {
                    let sql = format!("SELECT {EVENT_COLS_WITH_ID} FROM report_events WHERE id IN ({})", bind_params(1, chunk.len()));
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    for r in q.fetch_all(&self.reader).await.map_err(db_err)? {
                        events.insert(get::<i64>(&r, "id")?, event_from_row(&r)?);
                    }
                }
                let mut subs = std::collections::HashMap::new();
                let mut sub_ids: Vec<&str> = claimed.iter().map(|c| c.1.as_str()).collect();
                sub_ids.sort_unstable();
                sub_ids.dedup();
                let sql = format!(
                    "SELECT {SUBSCRIPTION_COLS} FROM webhook_subscriptions WHERE id IN ({})",
                    bind_params(1, sub_ids.len())
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for id in &sub_ids {
                    q = q.bind(*id);
                }
                for r in q.fetch_all(&self.reader).await.map_err(db_err)? {
                    let s = subscription_from_row(&r)?;
                    subs.insert(s.id.clone(), s);
                }
                let mut jobs = Vec::with_capacity(claimed.len());
                for (delivery_id, sub, event_id, attempts, first) in claimed {
                    let (Some(event), Some(subscription)) = (events.get(&event_id), subs.get(&sub)) else {
                        return Err(Error::internal(format!("webhook delivery {delivery_id} lost its event or subscription")));
                    };
                    jobs.push(WebhookJob {
                        delivery_id,
                        subscription: subscription.clone(),
                        event_id,
                        event: event.clone(),
                        attempts,
                        first_attempt_at: first.0,
                    });
                }
                jobs.sort_by_key(|j| j.delivery_id);
                Ok(jobs)
            }

            async fn finish_webhook_deliveries(&self, outcomes: &[DeliveryOutcome]) -> Result<()> {
                if outcomes.is_empty() {
                    return Ok(());
                }
                let mut tx = self.begin_write().await?;
                for chunk in outcomes.chunks(200) {
                    let rows: Vec<String> = (0..chunk.len()).map(|i| format!("({})", bind_params(i * 6 + 1, 6))).collect();
                    let sql = format!(
                        "INSERT INTO webhook_attempts (delivery_id, attempt, at, status, latency_ms, error) VALUES {} \
                         ON CONFLICT (delivery_id, attempt) DO NOTHING",
                        rows.join(", ")
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for o in chunk {
                        let a = &o.attempt;
                        q = q
                            .bind(a.delivery_id)
                            .bind(a.attempt)
                            .bind(Ts::new(a.at))
                            .bind(a.status)
                            .bind(a.latency_ms)
                            .bind(a.error.as_deref());
                    }
                    q.execute(&mut *tx).await.map_err(db_err)?;
                }
                for o in outcomes {
                    let a = &o.attempt;
                    let (state, available, finished) = match o.next {
                        DeliveryNext::Delivered => ("delivered", Ts::new(a.at), Some(Ts::new(a.at))),
                        DeliveryNext::Retry(at) => ("pending", Ts::new(at), None),
                        DeliveryNext::Dead => ("dead", Ts::new(a.at), Some(Ts::new(a.at))),
                    };
                    // Only a delivery still pending moves: a replay or a
                    // second worker's verdict is not overwritten.
                    sqlx::query(
                        "UPDATE webhook_deliveries SET state = $2, available_at = $3, finished_at = $4, \
                         last_status = $5, last_latency_ms = $6, last_error = $7 WHERE id = $1 AND state = 'pending'",
                    )
                    .bind(a.delivery_id)
                    .bind(state)
                    .bind(available)
                    .bind(finished)
                    .bind(a.status)
                    .bind(a.latency_ms)
                    .bind(a.error.as_deref())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn webhook_deliveries(
                &self,
                subscription_id: &str,
                state: Option<&str>,
                before: Option<i64>,
                limit: i64,
            ) -> Result<Vec<WebhookDelivery>> {
                let rows = sqlx::query(
                    "SELECT id, subscription_id, event_id, tracking_id, seq, state, attempts, created_at, available_at, \
                     finished_at, last_status, last_latency_ms, last_error FROM webhook_deliveries \
                     WHERE subscription_id = $1 AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR id < $3) \
                     ORDER BY id DESC LIMIT $4",
                )
                .bind(subscription_id)
                .bind(state)
                .bind(before)
                .bind(limit.clamp(1, 1000))
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter().map(delivery_from_row).collect()
            }

            async fn webhook_attempts(&self, delivery_id: i64) -> Result<Vec<WebhookAttempt>> {
                let rows = sqlx::query(
                    "SELECT delivery_id, attempt, at, status, latency_ms, error FROM webhook_attempts \
                     WHERE delivery_id = $1 ORDER BY attempt",
                )
                .bind(delivery_id)
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(WebhookAttempt {
                            delivery_id: get(r, "delivery_id")?,
                            attempt: get(r, "attempt")?,
                            at: get::<Ts>(r, "at")?.0,
                            status: get(r, "status")?,
                            latency_ms: get(r, "latency_ms")?,
                            error: get(r, "error")?,
                        })
                    })
                    .collect()
            }

            async fn replay_webhook_deliveries(&self, subscription_id: &str, ids: Option<&[i64]>, now: Ts) -> Result<u64> {
                let base = "UPDATE webhook_deliveries SET state = 'pending', available_at = $2, attempts = 0, \
                            first_attempt_at = NULL, finished_at = NULL WHERE subscription_id = $1 AND state = 'dead'";
                match ids {
                    None => self.write_one(sqlx::query(base).bind(subscription_id).bind(now)).await,
                    Some([]) => Ok(0),
                    Some(ids) => {
                        let mut total = 0;
                        for chunk in ids.chunks(500) {
                            // Numbered, not `bind_params`: SQLite's anonymous
                            // `?` would count from the first argument.
                            let list: Vec<String> = (3..3 + chunk.len()).map(|i| format!("${i}")).collect();
                            let sql = format!("{base} AND id IN ({})", list.join(", "));
                            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(subscription_id).bind(now);
                            for id in chunk {
                                q = q.bind(*id);
                            }
                            total += self.write_one(q).await?;
                        }
                        Ok(total)
                    }
                }
            }

            async fn purge_webhook_deliveries(&self, before: Ts) -> Result<u64> {
                let mut tx = self.begin_write().await?;
                let old = "SELECT id FROM webhook_deliveries WHERE state IN ('delivered', 'dead') AND finished_at < $1";
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM webhook_attempts WHERE delivery_id IN ({old})")))
                    .bind(before)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let n = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM webhook_deliveries WHERE id IN ({old})")))
                    .bind(before)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                tx.commit().await.map_err(db_err)?;
                Ok(n)
            }

            async fn report_by_idempotency_key(&self, key: &str) -> Result<Option<TrackingId>> {
                let id: Option<String> = sqlx::query_scalar("SELECT tracking_id FROM reports WHERE idempotency_key = $1")
                    .bind(key)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                id.map(|i| TrackingId::parse(&i)).transpose()
            }

            async fn idempotency_key_of(&self, id: &TrackingId) -> Result<Option<String>> {
                let key: Option<Option<String>> = sqlx::query_scalar("SELECT idempotency_key FROM reports WHERE tracking_id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                Ok(key.flatten())
            }

            async fn public_updates(&self, root: &str, start: Ts, end: Ts, limit: i64) -> Result<Vec<(i64, Event)>> {
                let sql = format!(
                    "WITH RECURSIVE tree(code) AS (SELECT code FROM institutions WHERE code = $1 \
                     UNION SELECT i.code FROM institutions i JOIN tree t ON i.parent_code = t.code) \
                     SELECT e.id, e.tracking_id, e.seq, e.at, e.actor, e.from_status, e.to_status, e.from_institution, \
                     e.to_institution, e.visibility, e.body, e.data FROM report_events e \
                     JOIN reports r ON r.tracking_id = e.tracking_id \
                     WHERE e.at >= $2 AND e.at < $3 AND e.visibility = 'public' \
                     AND r.institution IN (SELECT code FROM tree) AND {} ORDER BY e.at, e.id LIMIT $4",
                    crate::filter::PUBLIC_CONDITION
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(root)
                    .bind(start)
                    .bind(end)
                    .bind(limit.clamp(1, 10_000))
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(|r| Ok((get::<i64>(r, "id")?, event_from_row(r)?))).collect()
            }

            async fn unforwarded_reports(&self, system: &str, root: Option<&str>, since: Ts, limit: i64) -> Result<Vec<TrackingId>> {
                let ids: Vec<String> = sqlx::query_scalar(
                    "WITH RECURSIVE tree(code) AS (SELECT code FROM institutions WHERE code = $4 \
                     UNION SELECT i.code FROM institutions i JOIN tree t ON i.parent_code = t.code) \
                     SELECT r.tracking_id FROM reports r WHERE r.institution IS NOT NULL AND r.submitted_at >= $2 \
                     AND ($4 IS NULL OR r.institution IN (SELECT code FROM tree)) \
                     AND NOT EXISTS (SELECT 1 FROM upstream_refs u WHERE u.system = $1 AND u.tracking_id = r.tracking_id) \
                     ORDER BY r.submitted_at, r.tracking_id LIMIT $3",
                )
                .bind(system)
                .bind(since)
                .bind(limit.clamp(1, 1000))
                .bind(root)
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                ids.iter().map(|i| TrackingId::parse(i)).collect()
            }

            async fn open_upstream_refs(&self, system: &str, limit: i64) -> Result<Vec<UpstreamRef>> {
                let rows = sqlx::query(
                    "SELECT system, tracking_id, remote_id, sent_seq, logs_seen, closed, updated_at FROM upstream_refs \
                     WHERE system = $1 AND NOT closed ORDER BY updated_at, tracking_id LIMIT $2",
                )
                .bind(system)
                .bind(limit.clamp(1, 10_000))
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter().map(upstream_ref_from_row).collect()
            }

            async fn upstream_ref_by_remote(&self, system: &str, remote_id: &str) -> Result<Option<UpstreamRef>> {
                let row = sqlx::query(
                    "SELECT system, tracking_id, remote_id, sent_seq, logs_seen, closed, updated_at FROM upstream_refs \
                     WHERE system = $1 AND remote_id = $2",
                )
                .bind(system)
                .bind(remote_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
                row.as_ref().map(upstream_ref_from_row).transpose()
            }

            async fn save_upstream_ref(&self, u: &UpstreamRef) -> Result<()> {
                self.write_one(
                    sqlx::query(
                        "INSERT INTO upstream_refs (system, tracking_id, remote_id, sent_seq, logs_seen, closed, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (system, tracking_id) DO UPDATE SET \
                         remote_id = excluded.remote_id, sent_seq = excluded.sent_seq, logs_seen = excluded.logs_seen, \
                         closed = excluded.closed, updated_at = excluded.updated_at",
                    )
                    .bind(u.system.as_str())
                    .bind(u.tracking_id.as_str())
                    .bind(u.remote_id.as_str())
                    .bind(u.sent_seq)
                    .bind(u.logs_seen)
                    .bind(u.closed)
                    .bind(Ts::new(u.updated_at)),
                )
                .await
                .map(|_| ())
            }

            async fn save_upstream_institutions(&self, system: &str, rows: &[UpstreamInstitution]) -> Result<u64> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM upstream_institutions WHERE system = $1")
                    .bind(system)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                for r in rows {
                    sqlx::query(
                        "INSERT INTO upstream_institutions (system, remote_id, name, local_code) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (system, remote_id) DO NOTHING",
                    )
                    .bind(system)
                    .bind(r.remote_id)
                    .bind(r.name.as_str())
                    .bind(r.local_code.as_deref())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(rows.len() as u64)
            }

            async fn upstream_institution(&self, system: &str, local_code: &str) -> Result<Option<i64>> {
                sqlx::query_scalar(
                    "SELECT remote_id FROM upstream_institutions WHERE system = $1 AND local_code = $2 ORDER BY remote_id LIMIT 1",
                )
                .bind(system)
                .bind(local_code)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)
            }

            async fn changes(&self, institution: &str, after: FeedPosition, limit: i64) -> Result<Vec<FeedEntry>> {
                let sql = format!(
                    "SELECT c.id AS cid, {} AS ctx, e.id, e.tracking_id, e.seq, e.at, e.actor, e.from_status, e.to_status, \
                     e.from_institution, e.to_institution, e.visibility, e.body, e.data \
                     FROM integration_changes c JOIN report_events e ON e.id = c.event_id \
                     WHERE c.institution = $1 AND (c.tx, c.id) > ({}, $3){} ORDER BY c.tx, c.id LIMIT $4",
                    <$store>::FEED_TX_TEXT,
                    <$store>::FEED_TX_PARAM,
                    <$store>::FEED_VISIBLE
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(institution)
                    .bind(after.tx.to_string())
                    .bind(after.id)
                    .bind(limit.clamp(1, 10_000))
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        let tx: String = get(r, "ctx")?;
                        Ok(FeedEntry {
                            position: FeedPosition {
                                tx: tx.parse().map_err(|_| Error::internal(format!("feed tx {tx:?}")))?,
                                id: get(r, "cid")?,
                            },
                            event_id: get(r, "id")?,
                            event: event_from_row(r)?,
                        })
                    })
                    .collect()
            }
        }

        async fn insert_key(tx: &mut sqlx::Transaction<'static, $db>, k: &NewApiKey) -> Result<()> {
            sqlx::query(
                "INSERT INTO api_keys (key_hash, client_id, kind, prefix, created_at, expires_at, scopes) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(k.key_hash.as_str())
            .bind(k.client_id.as_str())
            .bind(k.kind.as_str())
            .bind(k.prefix.as_str())
            .bind(Ts::new(k.created_at))
            .bind(opt_ts(k.expires_at))
            .bind(k.scopes.as_deref())
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            Ok(())
        }
    };
}

pub(crate) use integrations_impl;
