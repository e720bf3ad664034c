//! Storage for the channels: one chatbot turn commits, in one transaction,
//! the inbound message (deduplicated on the platform's id), the new
//! conversation state (version-guarded), an inbox item when something was
//! left unfinished, and the replies as outbox rows. Also the identities that
//! link a platform account to a reporter, the handler inbox and the block
//! list.

use crate::Result;
use crate::ts::Ts;
use crate::types::{OutboxMessage, ReporterIdentity};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One inbound message as kept for deduplication and audit.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundRecord {
    pub channel: String,
    pub platform_id: String,
    pub sender: String,
    pub received_at: DateTime<Utc>,
    pub text: String,
    /// `handled`, `inbox`, `blocked` or `limited`.
    pub outcome: String,
    pub tracking_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConversationWrite {
    pub state: serde_json::Value,
    /// The version read before the turn; None for a new conversation.
    pub expected_version: Option<i64>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredConversation {
    pub state: serde_json::Value,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewInboxItem {
    /// Idempotency key: a retried turn files its item once.
    pub key: String,
    pub channel: String,
    pub sender: String,
    pub sender_name: Option<String>,
    pub received_at: DateTime<Utc>,
    pub reason: String,
    pub text: String,
    pub draft: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InboxItem {
    pub id: i64,
    /// `channel:platform-id:reason`, as filed.
    pub key: String,
    pub channel: String,
    pub sender: String,
    pub sender_name: Option<String>,
    pub received_at: DateTime<Utc>,
    pub reason: String,
    pub text: String,
    pub draft: Option<serde_json::Value>,
    pub state: String,
    pub tracking_id: Option<String>,
    pub handled_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatTurn {
    pub inbound: InboundRecord,
    pub conversation: Option<ConversationWrite>,
    pub inbox: Option<NewInboxItem>,
    pub outbox: Vec<OutboxMessage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnOutcome {
    Committed,
    /// The platform redelivered a message already handled: nothing written.
    Duplicate,
    /// Another turn of the same conversation committed first: run again.
    Conflict,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Block {
    /// A channel name, or `*` for every channel.
    pub channel: String,
    pub sender: String,
    pub reason: String,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A conversation that timed out, for the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpiredConversation {
    pub channel: String,
    pub sender: String,
    pub state: serde_json::Value,
    pub version: i64,
}

#[async_trait]
pub trait Chats {
    async fn commit_turn(&self, turn: &ChatTurn) -> Result<TurnOutcome>;
    /// Several turns in one transaction (one disk flush for all: group
    /// commit). Each turn still stands alone: a duplicate or a stale
    /// conversation writes nothing of that turn and does not affect the
    /// others. An error fails the whole batch and writes nothing.
    async fn commit_turns(&self, turns: &[ChatTurn]) -> Result<Vec<TurnOutcome>>;
    async fn inbound_seen(&self, channel: &str, platform_id: &str) -> Result<bool>;
    async fn conversation(&self, channel: &str, sender: &str) -> Result<Option<StoredConversation>>;
    /// The reporter behind a platform account.
    async fn channel_reporter(&self, channel: &str, sender: &str) -> Result<Option<String>>;
    /// Links a platform account to a reporter, creating the reporter on
    /// first contact; returns the linked reporter id (an existing link wins).
    async fn link_channel_identity(
        &self,
        channel: &str,
        sender: &str,
        reporter: &ReporterIdentity,
        now: Ts,
    ) -> Result<String>;
    /// Where to reach a reporter on a channel.
    async fn channel_address(&self, reporter_id: &str, channel: &str) -> Result<Option<String>>;
    /// The platform id of the message a report was submitted by (a tweet
    /// to reply under), while the inbound record is kept.
    async fn source_message(&self, channel: &str, tracking_id: &str) -> Result<Option<String>>;
    /// Makes a message the source of a report filed from it later (by staff,
    /// from the handler inbox); false when no such message is recorded or it
    /// already has a report.
    async fn attach_source(&self, channel: &str, platform_id: &str, tracking_id: &str) -> Result<bool>;
    async fn expired_conversations(&self, now: Ts, limit: i64) -> Result<Vec<ExpiredConversation>>;
    /// Ends a timed-out conversation (if nobody wrote since) and files what
    /// it left behind.
    async fn end_conversation(
        &self,
        c: &ExpiredConversation,
        state: &serde_json::Value,
        now: Ts,
        inbox: Option<&NewInboxItem>,
    ) -> Result<bool>;
    async fn file_inbox_item(&self, item: &NewInboxItem) -> Result<()>;
    async fn inbox_items(&self, state: &str, limit: i64) -> Result<Vec<InboxItem>>;
    async fn inbox_item(&self, id: i64) -> Result<Option<InboxItem>>;
    /// Closes an open item (`converted` with its report, or `dismissed`);
    /// false when it was no longer open.
    async fn resolve_inbox_item(
        &self,
        id: i64,
        state: &str,
        tracking_id: Option<&str>,
        by: &str,
        now: Ts,
    ) -> Result<bool>;
    async fn blocks(&self) -> Result<Vec<Block>>;
    async fn add_block(&self, b: &Block) -> Result<()>;
    async fn remove_block(&self, channel: &str, sender: &str) -> Result<bool>;
    async fn is_blocked(&self, channel: &str, sender: &str) -> Result<bool>;
    /// Forgets inbound message records older than `before` that touched no
    /// report (their ids only matter while a platform may still redeliver;
    /// a report's own stay as its source).
    async fn purge_inbound(&self, before: Ts) -> Result<u64>;
}

/// Expands `impl Chats for $store` over `sqlx::$db`.
macro_rules! chats_impl {
    ($store:ty, $db:ty, $row:ty) => {
        use crate::chat::*;

        fn inbox_from_row(r: &$row) -> Result<InboxItem> {
            let draft: Option<Json<serde_json::Value>> = get(r, "draft")?;
            Ok(InboxItem {
                id: get(r, "id")?,
                key: get(r, "key")?,
                channel: get(r, "channel")?,
                sender: get(r, "sender")?,
                sender_name: get(r, "sender_name")?,
                received_at: get::<Ts>(r, "received_at")?.0,
                reason: get(r, "reason")?,
                text: get(r, "text")?,
                draft: draft.map(|Json(v)| v),
                state: get(r, "state")?,
                tracking_id: get(r, "tracking_id")?,
                handled_by: get(r, "handled_by")?,
                handled_at: get::<Option<Ts>>(r, "handled_at")?.map(|t| t.0),
            })
        }

        const INBOX_COLS: &str = "id, key, channel, sender, sender_name, received_at, reason, text, draft, state, tracking_id, handled_by, handled_at";

        /// Writes one turn inside a transaction others may share: what a
        /// refused turn wrote is taken back by hand, not by rolling back.
        async fn apply_turn(tx: &mut sqlx::Transaction<'static, $db>, t: &ChatTurn) -> Result<TurnOutcome> {
                let i = &t.inbound;
                let fresh = sqlx::query(
                    "INSERT INTO inbound_messages (channel, platform_id, sender, received_at, text, outcome, tracking_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (channel, platform_id) DO NOTHING",
                )
                .bind(i.channel.as_str())
                .bind(i.platform_id.as_str())
                .bind(i.sender.as_str())
                .bind(Ts::new(i.received_at))
                .bind(i.text.as_str())
                .bind(i.outcome.as_str())
                .bind(i.tracking_id.as_deref())
                .execute(&mut **tx)
                .await
                .map_err(db_err)?
                .rows_affected();
                if fresh == 0 {
                    return Ok(TurnOutcome::Duplicate);
                }
                if let Some(c) = &t.conversation {
                    let n = match c.expected_version {
                        None => sqlx::query(
                            "INSERT INTO conversations (channel, sender, state, version, updated_at, expires_at) \
                             VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (channel, sender) DO NOTHING",
                        )
                        .bind(i.channel.as_str())
                        .bind(i.sender.as_str())
                        .bind(Json(&c.state))
                        .bind(Ts::new(c.updated_at))
                        .bind(opt_ts(c.expires_at))
                        .execute(&mut **tx)
                        .await
                        .map_err(db_err)?
                        .rows_affected(),
                        Some(v) => sqlx::query(
                            "UPDATE conversations SET state = $3, version = version + 1, updated_at = $4, expires_at = $5 \
                             WHERE channel = $1 AND sender = $2 AND version = $6",
                        )
                        .bind(i.channel.as_str())
                        .bind(i.sender.as_str())
                        .bind(Json(&c.state))
                        .bind(Ts::new(c.updated_at))
                        .bind(opt_ts(c.expires_at))
                        .bind(v)
                        .execute(&mut **tx)
                        .await
                        .map_err(db_err)?
                        .rows_affected(),
                    };
                    if n == 0 {
                        sqlx::query("DELETE FROM inbound_messages WHERE channel = $1 AND platform_id = $2")
                            .bind(i.channel.as_str())
                            .bind(i.platform_id.as_str())
                            .execute(&mut **tx)
                            .await
                            .map_err(db_err)?;
                        return Ok(TurnOutcome::Conflict);
                    }
                }
                if let Some(item) = &t.inbox {
                    insert_inbox(tx, item).await?;
                }
                let now = Ts::new(i.received_at);
                insert_outbox_rows(tx, &t.outbox.iter().map(|m| (m, now)).collect::<Vec<_>>()).await?;
                Ok(TurnOutcome::Committed)
        }

        async fn insert_inbox(tx: &mut sqlx::Transaction<'static, $db>, i: &NewInboxItem) -> Result<()> {
            sqlx::query(
                "INSERT INTO inbox_items (key, channel, sender, sender_name, received_at, reason, text, draft) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO NOTHING",
            )
            .bind(i.key.as_str())
            .bind(i.channel.as_str())
            .bind(i.sender.as_str())
            .bind(i.sender_name.as_deref())
            .bind(Ts::new(i.received_at))
            .bind(i.reason.as_str())
            .bind(i.text.as_str())
            .bind(i.draft.as_ref().map(Json))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl crate::chat::Chats for $store {
            async fn commit_turn(&self, t: &ChatTurn) -> Result<TurnOutcome> {
                let mut tx = self.begin_write().await?;
                let out = apply_turn(&mut tx, t).await?;
                tx.commit().await.map_err(db_err)?;
                Ok(out)
            }

            async fn commit_turns(&self, turns: &[ChatTurn]) -> Result<Vec<TurnOutcome>> {
                let mut tx = self.begin_write().await?;
                let mut out = Vec::with_capacity(turns.len());
                for t in turns {
                    out.push(apply_turn(&mut tx, t).await?);
                }
                tx.commit().await.map_err(db_err)?;
                Ok(out)
            }

            async fn inbound_seen(&self, channel: &str, platform_id: &str) -> Result<bool> {
                let n: Option<i64> = sqlx::query_scalar("SELECT id FROM inbound_messages WHERE channel = $1 AND platform_id = $2")
                    .bind(channel)
                    .bind(platform_id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                Ok(n.is_some())
            }

            async fn conversation(&self, channel: &str, sender: &str) -> Result<Option<StoredConversation>> {
                let row = sqlx::query("SELECT state, version FROM conversations WHERE channel = $1 AND sender = $2")
                    .bind(channel)
                    .bind(sender)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                row.map(|r| {
                    let Json(state): Json<serde_json::Value> = get(&r, "state")?;
                    Ok(StoredConversation { state, version: get(&r, "version")? })
                })
                .transpose()
            }

            async fn channel_reporter(&self, channel: &str, sender: &str) -> Result<Option<String>> {
                sqlx::query_scalar("SELECT reporter_id FROM channel_identities WHERE channel = $1 AND sender = $2")
                    .bind(channel)
                    .bind(sender)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)
            }

            async fn link_channel_identity(&self, channel: &str, sender: &str, r: &ReporterIdentity, now: Ts) -> Result<String> {
                let mut tx = self.begin_write().await?;
                let existing: Option<String> =
                    sqlx::query_scalar("SELECT reporter_id FROM channel_identities WHERE channel = $1 AND sender = $2")
                        .bind(channel)
                        .bind(sender)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                if let Some(id) = existing {
                    tx.rollback().await.map_err(db_err)?;
                    return Ok(id);
                }
                let known: Option<String> = sqlx::query_scalar("SELECT id FROM reporters WHERE id = $1")
                    .bind(r.id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if known.is_none() {
                    sqlx::query("INSERT INTO reporters (id, user_id, name, email, phone, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(r.id.as_str())
                        .bind(r.user_id.as_deref())
                        .bind(r.name.as_deref())
                        .bind(r.email.as_deref())
                        .bind(r.phone.as_deref())
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                sqlx::query("INSERT INTO channel_identities (channel, sender, reporter_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(channel)
                    .bind(sender)
                    .bind(r.id.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(r.id.clone())
            }

            async fn channel_address(&self, reporter_id: &str, channel: &str) -> Result<Option<String>> {
                sqlx::query_scalar(
                    "SELECT sender FROM channel_identities WHERE reporter_id = $1 AND channel = $2 ORDER BY created_at DESC LIMIT 1",
                )
                .bind(reporter_id)
                .bind(channel)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)
            }

            async fn source_message(&self, channel: &str, tracking_id: &str) -> Result<Option<String>> {
                sqlx::query_scalar(
                    "SELECT platform_id FROM inbound_messages WHERE channel = $1 AND tracking_id = $2 \
                     ORDER BY received_at LIMIT 1",
                )
                .bind(channel)
                .bind(tracking_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)
            }

            async fn attach_source(&self, channel: &str, platform_id: &str, tracking_id: &str) -> Result<bool> {
                let n = self
                    .write_one(
                        sqlx::query(
                            "UPDATE inbound_messages SET tracking_id = $3 \
                             WHERE channel = $1 AND platform_id = $2 AND tracking_id IS NULL",
                        )
                        .bind(channel)
                        .bind(platform_id)
                        .bind(tracking_id),
                    )
                    .await?;
                Ok(n > 0)
            }

            async fn expired_conversations(&self, now: Ts, limit: i64) -> Result<Vec<ExpiredConversation>> {
                let rows = sqlx::query(
                    "SELECT channel, sender, state, version FROM conversations \
                     WHERE expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
                )
                .bind(now)
                .bind(limit)
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        let Json(state): Json<serde_json::Value> = get(r, "state")?;
                        Ok(ExpiredConversation {
                            channel: get(r, "channel")?,
                            sender: get(r, "sender")?,
                            state,
                            version: get(r, "version")?,
                        })
                    })
                    .collect()
            }

            async fn end_conversation(&self, c: &ExpiredConversation, state: &serde_json::Value, now: Ts, inbox: Option<&NewInboxItem>) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query(
                    "UPDATE conversations SET state = $3, version = version + 1, updated_at = $4, expires_at = NULL \
                     WHERE channel = $1 AND sender = $2 AND version = $5",
                )
                .bind(c.channel.as_str())
                .bind(c.sender.as_str())
                .bind(Json(state))
                .bind(now)
                .bind(c.version)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
                if n == 0 {
                    tx.rollback().await.map_err(db_err)?;
                    return Ok(false);
                }
                if let Some(item) = inbox {
                    insert_inbox(&mut tx, item).await?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn file_inbox_item(&self, item: &NewInboxItem) -> Result<()> {
                let mut tx = self.begin_write().await?;
                insert_inbox(&mut tx, item).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn inbox_items(&self, state: &str, limit: i64) -> Result<Vec<InboxItem>> {
                let sql = format!("SELECT {INBOX_COLS} FROM inbox_items WHERE state = $1 ORDER BY received_at DESC, id DESC LIMIT $2");
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(state)
                    .bind(limit.clamp(1, 1000))
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(inbox_from_row).collect()
            }

            async fn inbox_item(&self, id: i64) -> Result<Option<InboxItem>> {
                let sql = format!("SELECT {INBOX_COLS} FROM inbox_items WHERE id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(inbox_from_row).transpose()
            }

            async fn resolve_inbox_item(&self, id: i64, state: &str, tracking_id: Option<&str>, by: &str, now: Ts) -> Result<bool> {
                let n = self
                    .write_one(
                        sqlx::query(
                            "UPDATE inbox_items SET state = $2, tracking_id = $3, handled_by = $4, handled_at = $5 \
                             WHERE id = $1 AND state = 'open'",
                        )
                        .bind(id)
                        .bind(state)
                        .bind(tracking_id)
                        .bind(by)
                        .bind(now),
                    )
                    .await?;
                Ok(n > 0)
            }

            async fn blocks(&self) -> Result<Vec<Block>> {
                let rows = sqlx::query("SELECT channel, sender, reason, created_by, created_at FROM channel_blocks ORDER BY created_at DESC")
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(Block {
                            channel: get(r, "channel")?,
                            sender: get(r, "sender")?,
                            reason: get(r, "reason")?,
                            created_by: get(r, "created_by")?,
                            created_at: get::<Ts>(r, "created_at")?.0,
                        })
                    })
                    .collect()
            }

            async fn add_block(&self, b: &Block) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO channel_blocks (channel, sender, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (channel, sender) DO UPDATE SET reason = $3, created_by = $4, created_at = $5",
                )
                .bind(b.channel.as_str())
                .bind(b.sender.as_str())
                .bind(b.reason.as_str())
                .bind(b.created_by.as_deref())
                .bind(Ts::new(b.created_at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn remove_block(&self, channel: &str, sender: &str) -> Result<bool> {
                let q = sqlx::query("DELETE FROM channel_blocks WHERE channel = $1 AND sender = $2")
                    .bind(channel)
                    .bind(sender);
                Ok(self.write_one(q).await? > 0)
            }

            async fn is_blocked(&self, channel: &str, sender: &str) -> Result<bool> {
                let n: Option<String> = sqlx::query_scalar(
                    "SELECT reason FROM channel_blocks WHERE sender = $2 AND (channel = $1 OR channel = '*') LIMIT 1",
                )
                .bind(channel)
                .bind(sender)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
                Ok(n.is_some())
            }

            async fn purge_inbound(&self, before: Ts) -> Result<u64> {
                self.write_one(
                    sqlx::query("DELETE FROM inbound_messages WHERE received_at < $1 AND tracking_id IS NULL").bind(before),
                )
                    .await
            }
        }
    };
}

pub(crate) use chats_impl;
