//! X (Twitter) API v2: mentions of the configured account are polled with
//! `GET /2/users/{id}/mentions?since_id=…`; a tweet in the form `#LAPOR
//! <isi> @account` becomes a report, answered with `POST /2/tweets`.

use crate::inbound::{ApiRequest, ParseError, bad, clip, json};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

/// A tweet holds 280 characters.
const MAX_TWEET: usize = 280;

#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub id: String,
    pub text: String,
    pub author_id: String,
    pub author_username: Option<String>,
    pub author_name: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MentionPage {
    pub mentions: Vec<Mention>,
    /// The newest id seen: the next poll's `since_id`.
    pub newest_id: Option<String>,
    pub next_token: Option<String>,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    data: Vec<Tweet>,
    includes: Option<Includes>,
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Tweet {
    id: String,
    text: String,
    author_id: Option<String>,
    created_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Includes {
    #[serde(default)]
    users: Vec<User>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    name: Option<String>,
    username: Option<String>,
}

#[derive(Deserialize)]
struct Meta {
    newest_id: Option<String>,
    next_token: Option<String>,
}

fn numeric(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
}

pub fn parse_mentions(body: &[u8]) -> Result<MentionPage, ParseError> {
    let p: Page = json(body)?;
    let users = p.includes.map(|i| i.users).unwrap_or_default();
    let mut mentions = Vec::with_capacity(p.data.len());
    for t in p.data {
        if !numeric(&t.id) {
            return Err(bad("tweet id is not numeric"));
        }
        let author_id = t.author_id.ok_or_else(|| bad("tweet without author_id (ask for it)"))?;
        let u = users.iter().find(|u| u.id == author_id);
        mentions.push(Mention {
            id: t.id,
            text: t.text,
            author_username: u.and_then(|u| u.username.clone()),
            author_name: u.and_then(|u| u.name.clone()),
            author_id,
            created_at: t.created_at,
        });
    }
    let meta = p.meta;
    Ok(MentionPage {
        newest_id: meta.as_ref().and_then(|m| m.newest_id.clone()).filter(|i| numeric(i)),
        next_token: meta.and_then(|m| m.next_token),
        mentions,
    })
}

pub fn mentions_request(
    api_base: &str,
    bearer: &str,
    user_id: &str,
    since_id: Option<&str>,
    page: Option<&str>,
) -> ApiRequest {
    let mut q: Vec<(&str, &str)> = vec![
        ("max_results", "100"),
        ("tweet.fields", "author_id,created_at,conversation_id"),
        ("expansions", "author_id"),
        ("user.fields", "username,name"),
    ];
    if let Some(s) = since_id {
        q.push(("since_id", s));
    }
    if let Some(p) = page {
        q.push(("pagination_token", p));
    }
    let qs = serde_urlencoded::to_string(&q).unwrap_or_default();
    ApiRequest {
        method: "GET",
        url: format!("{}/2/users/{user_id}/mentions?{qs}", api_base.trim_end_matches('/')),
        headers: vec![("authorization".into(), format!("Bearer {bearer}"))],
        body: Vec::new(),
    }
}

/// A reply tweet (a user-context OAuth 2.0 token is needed to post).
pub fn reply_request(api_base: &str, user_token: &str, in_reply_to: &str, text: &str) -> ApiRequest {
    ApiRequest::post_json(
        format!("{}/2/tweets", api_base.trim_end_matches('/')),
        Some(user_token),
        &json!({ "text": clip(text, MAX_TWEET), "reply": { "in_reply_to_tweet_id": in_reply_to } }),
    )
}
