//! X has no webhook we can rely on without an enterprise contract, so the
//! account's mentions are polled. Each mention goes through the same turn
//! pipeline as a chat message (dedupe on the tweet id, block list, limits):
//! `#LAPOR … @account` becomes a report answered with a reply tweet, and any
//! other mention lands in the handler inbox as "untagged".
//!
//! `since_id` is stored in the settings table only after every mention of
//! a poll has been committed, so a crash re-reads them and the dedupe on
//! tweet ids drops what was already handled.

use super::XConfig;
use super::deliver::download;
use super::turn::{self, Handled};
use crate::AppState;
use lapor_channels::Inbound;
use lapor_channels::conversation::Input;
use lapor_channels::x::{self, Mention};
use lapor_domain::report::Channel;
use lapor_domain::{Error, ErrorCode};
use std::time::Duration;

const SINCE_KEY: &str = "channels.x.since_id";
/// Catching up after downtime reads at most this many pages of 100.
const MAX_PAGES: usize = 10;
const MAX_PAGE_BYTES: usize = 4 << 20;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PollStats {
    pub fetched: usize,
    pub handled: usize,
    pub duplicates: usize,
    /// Our own tweets (replies we posted that mention us) and refused senders.
    pub dropped: usize,
}

fn unavailable(what: String) -> Error {
    Error::with(ErrorCode::Unavailable, what)
}

/// Reads every mention newer than the stored `since_id`, oldest first.
async fn fetch(state: &AppState, cfg: &XConfig, since: Option<&str>) -> Result<(Vec<Mention>, Option<String>), Error> {
    let mut all = Vec::new();
    let mut newest = None;
    let mut page: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let req = x::mentions_request(
            &cfg.api_base,
            &cfg.bearer_token,
            &cfg.account_id,
            since,
            page.as_deref(),
        );
        let body = download(state, &req, MAX_PAGE_BYTES)
            .await
            .map_err(|e| unavailable(format!("X mentions: {e}")))?;
        let p = x::parse_mentions(&body).map_err(|e| unavailable(format!("X mentions: {e}")))?;
        // The first page holds the newest tweets.
        if newest.is_none() {
            newest = p.newest_id;
        }
        all.extend(p.mentions);
        // Without a since_id (first start) only the latest page is read:
        // months of old mentions are not turned into reports at once.
        match p.next_token {
            Some(t) if since.is_some() => page = Some(t),
            _ => break,
        }
    }
    // Tweet ids are numbers that grow with time; compare them as numbers.
    all.sort_by(|a, b| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
    all.dedup_by(|a, b| a.id == b.id);
    Ok((all, newest))
}

pub fn inbound(m: &Mention) -> Inbound {
    Inbound {
        channel: Channel::Twitter,
        platform_id: m.id.clone(),
        sender: m.author_id.clone(),
        sender_name: m
            .author_username
            .as_ref()
            .map(|u| format!("@{u}"))
            .or_else(|| m.author_name.clone()),
        sent_at: m.created_at,
        input: Input::Text(m.text.clone()),
        reply_token: None,
        lang_hint: None,
    }
}

/// One poll: fetch, run each mention through the turn, then advance
/// `since_id`.
pub async fn poll_once(state: &AppState) -> Result<PollStats, Error> {
    let Some(cfg) = state.config.channels.x.as_ref() else {
        return Ok(PollStats::default());
    };
    let since = state.store.setting(SINCE_KEY).await?;
    let (mentions, newest) = fetch(state, cfg, since.as_deref()).await?;
    let mut stats = PollStats {
        fetched: mentions.len(),
        ..PollStats::default()
    };
    for m in &mentions {
        if m.author_id == cfg.account_id {
            stats.dropped += 1;
            continue;
        }
        match turn::handle(state, &inbound(m)).await? {
            Handled::Done => stats.handled += 1,
            Handled::Duplicate => stats.duplicates += 1,
            Handled::Blocked | Handled::Limited | Handled::Spam => stats.dropped += 1,
        }
    }
    if let Some(n) = newest
        && since.as_deref() != Some(n.as_str())
    {
        state.store.put_setting(SINCE_KEY, &n).await?;
    }
    Ok(stats)
}

/// Polls every `poll_secs` until `stop`; a failed poll (X down, rate
/// limited) is logged and retried at the next tick.
pub async fn run(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let Some(cfg) = state.config.channels.x.clone() else {
        return;
    };
    let every = Duration::from_secs(cfg.poll_secs.max(15));
    loop {
        match poll_once(&state).await {
            Ok(s) if s.fetched > 0 => tracing::info!(?s, "X mentions polled"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "X mentions poll failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}
