//! Storage for the institution workspace: staff sign-in security (second
//! factor, lockout, sessions, password reset), replay guards for forms,
//! routing rules, reply templates, staff management, training history for
//! the routing classifier, and audit queries.
//!
//! A supertrait of `Store`, so `Arc<dyn Store>` answers these too; like the
//! rest of the store it is written once and expanded for each backend.

use crate::Result;
use crate::filter::ReportFilter;
use crate::ts::Ts;
use crate::types::{AuditEntry, User};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lapor_domain::institution::Membership;
use serde::Serialize;

/// What sign-in needs to know about an account beyond its password.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSecurity {
    /// Base32 TOTP secret once the user enrolled a second factor.
    pub totp_secret: Option<String>,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub disabled: bool,
    pub recovery_codes_left: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionInfo {
    pub token_hash: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRule {
    pub id: i64,
    pub category: Option<String>,
    pub region_level: Option<i64>,
    pub institution: String,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplyTemplate {
    pub id: i64,
    pub institution: String,
    pub name: String,
    pub body: String,
    pub updated_at: DateTime<Utc>,
}

/// One report where it ended up: the text and the institution that kept it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRow {
    pub tracking_id: String,
    pub title: String,
    pub body: String,
    pub institution: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user_id: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub from: Option<Ts>,
    pub before: Option<Ts>,
    /// Keyset: entries older than this id.
    pub before_id: Option<i64>,
    pub limit: i64,
}

#[async_trait]
pub trait Workspace: Send + Sync {
    // Sign-in security.
    async fn user_security(&self, user_id: &str) -> Result<Option<UserSecurity>>;
    /// Counts a failed sign-in and returns the count so far.
    async fn login_failed(&self, user_id: &str) -> Result<i64>;
    async fn lock_until(&self, user_id: &str, until: Option<Ts>) -> Result<()>;
    /// Clears the failure count and any lock.
    async fn login_succeeded(&self, user_id: &str) -> Result<()>;
    /// Stores a new TOTP secret and replaces the recovery codes (digests).
    async fn enroll_totp(&self, user_id: &str, secret: &str, recovery_hashes: &[String]) -> Result<()>;
    /// Accepts a TOTP time step once: true only if it is later than every
    /// step accepted before (a replayed code is refused, on any node).
    async fn claim_totp_step(&self, user_id: &str, step: i64) -> Result<bool>;
    /// Uses up a recovery code; false if unknown or already used.
    async fn use_recovery_code(&self, user_id: &str, code_hash: &str) -> Result<bool>;
    /// Sets a new password and ends every session and token of the user.
    async fn set_password(&self, user_id: &str, password_hash: &str) -> Result<()>;
    /// Live browser sessions and API tokens of a user, newest first.
    async fn sessions(&self, user_id: &str, now: Ts) -> Result<Vec<SessionInfo>>;
    /// Ends one of the user's own sessions; false if it is not theirs.
    async fn revoke_session(&self, user_id: &str, token_hash: &str) -> Result<bool>;
    /// Consumes a one-time token (reset link, pending second factor) and
    /// returns its user, if it exists, is of this kind and has not expired.
    async fn take_token(&self, token_hash: &str, kind: crate::TokenKind, now: Ts) -> Result<Option<String>>;
    /// Queues messages that are not tied to a report event (password reset
    /// links, staff notices). Repeated keys are ignored.
    async fn enqueue(&self, msgs: &[crate::OutboxMessage]) -> Result<()>;
    /// Records a submitted form's nonce; false if it was submitted before.
    async fn claim_nonce(&self, nonce: &str, expires_at: Ts, now: Ts) -> Result<bool>;

    // Staff management.
    /// Staff with a membership in `root` or below it (all staff for None).
    async fn staff_users(&self, root: Option<&str>, limit: i64) -> Result<Vec<User>>;
    async fn remove_membership(&self, user_id: &str, m: &Membership) -> Result<bool>;
    /// Disabling also ends every session and token.
    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<()>;

    // Routing.
    async fn routing_rules(&self) -> Result<Vec<StoredRule>>;
    async fn add_routing_rule(
        &self,
        category: Option<&str>,
        region_level: Option<i64>,
        institution: &str,
        by: &str,
    ) -> Result<i64>;
    async fn delete_routing_rule(&self, id: i64) -> Result<bool>;
    /// Reports that stayed with the institution they were sent to (accepted
    /// or further), most recent first: the routing classifier's history.
    async fn training_rows(&self, limit: i64) -> Result<Vec<TrainingRow>>;

    // Reply templates.
    async fn reply_templates(&self, institution: &str) -> Result<Vec<ReplyTemplate>>;
    /// Creates or replaces the template of that name.
    async fn save_reply_template(&self, institution: &str, name: &str, body: &str) -> Result<i64>;
    async fn delete_reply_template(&self, institution: &str, id: i64) -> Result<bool>;

    // Queues and audit.
    /// Matching reports, counted up to `cap`.
    async fn count_reports(&self, f: &ReportFilter, cap: i64) -> Result<i64>;
    async fn audit_query(&self, q: &AuditQuery) -> Result<Vec<(i64, AuditEntry)>>;
}

/// Expands `impl Workspace for $store` over `sqlx::$db`.
macro_rules! workspace_impl {
    ($store:ty, $db:ty, $row:ty) => {
        use crate::workspace::*;

        #[async_trait::async_trait]
        impl crate::workspace::Workspace for $store {
            async fn user_security(&self, user_id: &str) -> Result<Option<UserSecurity>> {
                let row = sqlx::query(
                    "SELECT totp_secret, failed_logins, locked_until, disabled, \
                     (SELECT COUNT(*) FROM recovery_codes c WHERE c.user_id = users.id AND c.used_at IS NULL) AS codes_left \
                     FROM users WHERE id = $1",
                )
                .bind(user_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
                row.map(|r| {
                    Ok(UserSecurity {
                        totp_secret: get(&r, "totp_secret")?,
                        failed_logins: get(&r, "failed_logins")?,
                        locked_until: get::<Option<Ts>>(&r, "locked_until")?.map(|t| t.0),
                        disabled: get(&r, "disabled")?,
                        recovery_codes_left: get(&r, "codes_left")?,
                    })
                })
                .transpose()
            }

            async fn login_failed(&self, user_id: &str) -> Result<i64> {
                let mut tx = self.begin_write().await?;
                let n: i64 = sqlx::query_scalar(
                    "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
                )
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(n)
            }

            async fn lock_until(&self, user_id: &str, until: Option<Ts>) -> Result<()> {
                self.exec_write("UPDATE users SET locked_until = $2 WHERE id = $1", user_id, until).await
            }

            async fn login_succeeded(&self, user_id: &str) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn enroll_totp(&self, user_id: &str, secret: &str, recovery_hashes: &[String]) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE users SET totp_secret = $2, totp_last_step = NULL WHERE id = $1")
                    .bind(user_id)
                    .bind(secret)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                for h in recovery_hashes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                        .bind(user_id)
                        .bind(h.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn claim_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let res = sqlx::query(
                    "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                )
                .bind(user_id)
                .bind(step)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(res.rows_affected() == 1)
            }

            async fn use_recovery_code(&self, user_id: &str, code_hash: &str) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let res = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                )
                .bind(user_id)
                .bind(code_hash)
                .bind(Ts::now())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(res.rows_affected() == 1)
            }

            async fn set_password(&self, user_id: &str, password_hash: &str) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE id = $1")
                    .bind(user_id)
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                sqlx::query("DELETE FROM tokens WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn sessions(&self, user_id: &str, now: Ts) -> Result<Vec<SessionInfo>> {
                let rows = sqlx::query(
                    "SELECT token_hash, kind, created_at, expires_at, user_agent FROM tokens \
                     WHERE user_id = $1 AND kind IN ('session', 'bearer') AND expires_at > $2 ORDER BY created_at DESC LIMIT 200",
                )
                .bind(user_id)
                .bind(now)
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(SessionInfo {
                            token_hash: get(r, "token_hash")?,
                            kind: get(r, "kind")?,
                            created_at: get::<Ts>(r, "created_at")?.0,
                            expires_at: get::<Ts>(r, "expires_at")?.0,
                            user_agent: get(r, "user_agent")?,
                        })
                    })
                    .collect()
            }

            async fn revoke_session(&self, user_id: &str, token_hash: &str) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let res = sqlx::query("DELETE FROM tokens WHERE user_id = $1 AND token_hash = $2")
                    .bind(user_id)
                    .bind(token_hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(res.rows_affected() == 1)
            }

            async fn take_token(&self, token_hash: &str, kind: crate::TokenKind, now: Ts) -> Result<Option<String>> {
                let mut tx = self.begin_write().await?;
                let user: Option<String> = sqlx::query_scalar(
                    "DELETE FROM tokens WHERE token_hash = $1 AND kind = $2 AND expires_at > $3 RETURNING user_id",
                )
                .bind(token_hash)
                .bind(kind.as_str())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(user)
            }

            async fn enqueue(&self, msgs: &[crate::OutboxMessage]) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let now = Ts::now();
                insert_outbox_rows(&mut tx, &msgs.iter().map(|m| (m, now)).collect::<Vec<_>>()).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn claim_nonce(&self, nonce: &str, expires_at: Ts, now: Ts) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                // Expired nonces can go: their forms are refused as stale anyway.
                sqlx::query("DELETE FROM form_nonces WHERE expires_at < $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let res = sqlx::query("INSERT INTO form_nonces (nonce, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(nonce)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(res.rows_affected() == 1)
            }

            async fn staff_users(&self, root: Option<&str>, limit: i64) -> Result<Vec<User>> {
                let cols = "u.id, u.email, u.phone, u.name, u.is_staff, u.notify_email, u.notify_sms";
                let rows = match root {
                    Some(root) => sqlx::query(sqlx::AssertSqlSafe(format!(
                        "WITH RECURSIVE tree(code) AS (SELECT code FROM institutions WHERE code = $1 \
                         UNION SELECT i.code FROM institutions i JOIN tree t ON i.parent_code = t.code) \
                         SELECT {cols} FROM users u WHERE u.is_staff = TRUE AND EXISTS \
                         (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.institution IN (SELECT code FROM tree)) \
                         ORDER BY u.name, u.id LIMIT $2"
                    )))
                    .bind(root)
                    .bind(limit.clamp(1, 1000))
                    .fetch_all(&self.reader)
                    .await,
                    None => sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {cols} FROM users u WHERE u.is_staff = TRUE ORDER BY u.name, u.id LIMIT $1"
                    )))
                    .bind(limit.clamp(1, 1000))
                    .fetch_all(&self.reader)
                    .await,
                }
                .map_err(db_err)?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push(self.user_from_row(r).await?);
                }
                Ok(out)
            }

            async fn remove_membership(&self, user_id: &str, m: &Membership) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let res = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND role = $2 AND institution = $3")
                    .bind(user_id)
                    .bind(m.role.as_str())
                    .bind(m.institution.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(res.rows_affected() == 1)
            }

            async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                    .bind(user_id)
                    .bind(disabled)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if disabled {
                    sqlx::query("DELETE FROM tokens WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn routing_rules(&self) -> Result<Vec<StoredRule>> {
                let rows = sqlx::query(
                    "SELECT id, category, region_level, institution, created_by, created_at FROM routing_rules ORDER BY id",
                )
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(StoredRule {
                            id: get(r, "id")?,
                            category: get(r, "category")?,
                            region_level: get(r, "region_level")?,
                            institution: get(r, "institution")?,
                            created_by: get(r, "created_by")?,
                            created_at: get::<Ts>(r, "created_at")?.0,
                        })
                    })
                    .collect()
            }

            async fn add_routing_rule(
                &self,
                category: Option<&str>,
                region_level: Option<i64>,
                institution: &str,
                by: &str,
            ) -> Result<i64> {
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO routing_rules (category, region_level, institution, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(category)
                .bind(region_level)
                .bind(institution)
                .bind(by)
                .bind(Ts::now())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(id)
            }

            async fn delete_routing_rule(&self, id: i64) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let res = sqlx::query("DELETE FROM routing_rules WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(res.rows_affected() == 1)
            }

            async fn training_rows(&self, limit: i64) -> Result<Vec<TrainingRow>> {
                let rows = sqlx::query(
                    "SELECT tracking_id, title, body, institution FROM reports \
                     WHERE status IN ('in_progress', 'responded', 'completed') AND institution IS NOT NULL \
                     ORDER BY submitted_at DESC LIMIT $1",
                )
                .bind(limit.clamp(1, 200_000))
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(TrainingRow {
                            tracking_id: get(r, "tracking_id")?,
                            title: get(r, "title")?,
                            body: get(r, "body")?,
                            institution: get(r, "institution")?,
                        })
                    })
                    .collect()
            }

            async fn reply_templates(&self, institution: &str) -> Result<Vec<ReplyTemplate>> {
                let rows = sqlx::query(
                    "SELECT id, institution, name, body, updated_at FROM reply_templates WHERE institution = $1 ORDER BY name",
                )
                .bind(institution)
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(ReplyTemplate {
                            id: get(r, "id")?,
                            institution: get(r, "institution")?,
                            name: get(r, "name")?,
                            body: get(r, "body")?,
                            updated_at: get::<Ts>(r, "updated_at")?.0,
                        })
                    })
                    .collect()
            }

            async fn save_reply_template(&self, institution: &str, name: &str, body: &str) -> Result<i64> {
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO reply_templates (institution, name, body, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (institution, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at \
                     RETURNING id",
                )
                .bind(institution)
                .bind(name)
                .bind(body)
                .bind(Ts::now())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(id)
            }

            async fn delete_reply_template(&self, institution: &str, id: i64) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let res = sqlx::query("DELETE FROM reply_templates WHERE institution = $1 AND id = $2")
                    .bind(institution)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(res.rows_affected() == 1)
            }

            async fn count_reports(&self, f: &ReportFilter, cap: i64) -> Result<i64> {
                let Some((sql, args)) = f.to_count_sql(cap) else {
                    return Ok(0);
                };
                let row = bind_args(sqlx::query(sqlx::AssertSqlSafe(sql)), &args)
                    .fetch_one(&self.reader)
                    .await
                    .map_err(db_err)?;
                row.try_get::<i64, _>(0).map_err(db_err)
            }

            async fn audit_query(&self, aq: &AuditQuery) -> Result<Vec<(i64, AuditEntry)>> {
                let mut conds = Vec::new();
                let mut args = Vec::new();
                let mut push = |cond: &str, a: Arg| {
                    args.push(a);
                    conds.push(cond.replace('?', &format!("${}", args.len())));
                };
                if let Some(u) = &aq.user_id {
                    push("user_id = ?", Arg::Text(u.clone()));
                }
                if let Some(a) = &aq.action {
                    push("action = ?", Arg::Text(a.clone()));
                }
                if let Some(t) = &aq.target {
                    push("target = ?", Arg::Text(t.clone()));
                }
                if let Some(t) = aq.from {
                    push("at >= ?", Arg::Ts(t));
                }
                if let Some(t) = aq.before {
                    push("at < ?", Arg::Ts(t));
                }
                if let Some(id) = aq.before_id {
                    push("id < ?", Arg::I64(id));
                }
                let mut sql = String::from("SELECT id, at, user_id, action, target, detail FROM audit_log");
                if !conds.is_empty() {
                    sql.push_str(" WHERE ");
                    sql.push_str(&conds.join(" AND "));
                }
                sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", aq.limit.clamp(1, 100_000)));
                let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(sql)), &args)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            get(r, "id")?,
                            AuditEntry {
                                at: get::<Ts>(r, "at")?.0,
                                user_id: get(r, "user_id")?,
                                action: get(r, "action")?,
                                target: get(r, "target")?,
                                detail: get(r, "detail")?,
                            },
                        ))
                    })
                    .collect()
            }
        }

        impl $store {
            /// One UPDATE keyed by user id, in its own write transaction.
            async fn exec_write(&self, sql: &'static str, user_id: &str, ts: Option<Ts>) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(sql)
                    .bind(user_id)
                    .bind(ts)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }
        }
    };
}

pub(crate) use workspace_impl;
