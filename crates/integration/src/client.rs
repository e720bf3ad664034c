//! Credentials of integration clients (a regional complaint system, another
//! Lapor instance): API keys, OAuth2 client-credentials secrets and the
//! scopes they carry.
//!
//! A key is `lapor_<client id>_<secret>`. The client id in it lets the
//! server name the client in logs before the key is checked; only a
//! SHA-256 digest of the whole key is stored (the secret is 256 random
//! bits, so a slow hash would add nothing).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a client may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Read the reports assigned to the institution and the changes feed.
    #[serde(rename = "reports:read")]
    ReportsRead,
    /// Push reports, post follow-ups, status changes, transfers, files.
    #[serde(rename = "reports:write")]
    ReportsWrite,
    /// Manage webhook subscriptions, read their delivery log, replay.
    #[serde(rename = "webhooks")]
    Webhooks,
    /// Submit through the Open311 GeoReport v2 endpoint.
    #[serde(rename = "open311")]
    Open311,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::ReportsRead, Scope::ReportsWrite, Scope::Webhooks, Scope::Open311];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ReportsRead => "reports:read",
            Scope::ReportsWrite => "reports:write",
            Scope::Webhooks => "webhooks",
            Scope::Open311 => "open311",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Parses a space-separated scope list (OAuth2 style). Unknown scopes are an
/// error naming the first one; an empty list is an error too.
pub fn parse_scopes(s: &str) -> Result<Vec<Scope>, String> {
    let mut out = Vec::new();
    for w in s.split([' ', ',']).filter(|w| !w.is_empty()) {
        let scope = Scope::parse(w).ok_or_else(|| w.to_string())?;
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    if out.is_empty() {
        return Err(String::new());
    }
    out.sort();
    Ok(out)
}

pub fn format_scopes(scopes: &[Scope]) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

const PREFIX: &str = "lapor_";

/// A new key for `client_id` from 32 random bytes.
pub fn new_key(client_id: &str, random: [u8; 32]) -> String {
    format!("{PREFIX}{client_id}_{}", URL_SAFE_NO_PAD.encode(random))
}

/// The client id a key names, if it has our shape. Says nothing about
/// whether the key is valid.
pub fn key_client(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(PREFIX)?;
    // The secret is 43 base64url characters, which may contain '_'.
    if rest.len() < 44 || !rest.is_char_boundary(rest.len() - 44) {
        return None;
    }
    let (client, sep_secret) = rest.split_at(rest.len() - 44);
    let secret = sep_secret.strip_prefix('_')?;
    let ok_client =
        !client.is_empty() && client.len() <= 40 && client.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let ok_secret = secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (ok_client && ok_secret).then_some(client)
}

/// What is stored of a key.
pub fn digest(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// The first characters of a key, shown in lists so people can tell keys
/// apart without the list revealing them.
pub fn display_prefix(key: &str) -> String {
    let n = key.len().min(PREFIX.len() + 12);
    format!("{}…", &key[..n])
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_client() {
        for client in ["ic-1", "ic-abc-def", "x"] {
            for fill in [0u8, 0xff, 0x3f] {
                let key = new_key(client, [fill; 32]);
                assert_eq!(key_client(&key), Some(client), "{key}");
            }
        }
        assert_eq!(key_client("lapor_"), None);
        assert_eq!(key_client("bearer-token"), None);
        assert_eq!(key_client(&format!("lapor_{}", "a".repeat(44))), None);
        assert_eq!(key_client(&format!("lapor_bad!_{}", "a".repeat(43))), None);
        assert_eq!(key_client(&format!("lapor_c_{}é", "a".repeat(41))), None);
    }

    #[test]
    fn digests_and_prefixes() {
        let k = new_key("ic-1", [7; 32]);
        assert_eq!(digest(&k).len(), 64);
        assert_ne!(digest(&k), digest(&new_key("ic-1", [8; 32])));
        assert!(display_prefix(&k).starts_with("lapor_ic-1_"));
        assert!(display_prefix(&k).chars().count() < 25);
    }

    #[test]
    fn scopes_parse_like_oauth() {
        assert_eq!(
            parse_scopes("reports:write reports:read reports:read"),
            Ok(vec![Scope::ReportsRead, Scope::ReportsWrite])
        );
        assert_eq!(
            parse_scopes("webhooks,open311"),
            Ok(vec![Scope::Webhooks, Scope::Open311])
        );
        assert_eq!(parse_scopes("reports:read admin"), Err("admin".into()));
        assert_eq!(parse_scopes("  "), Err(String::new()));
        assert_eq!(
            format_scopes(&Scope::ALL),
            "reports:read reports:write webhooks open311"
        );
    }
}
