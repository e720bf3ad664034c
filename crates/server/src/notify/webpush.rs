//! Web Push: a message to a browser or an installed app through the push
//! service its vendor runs (RFC 8030).
//! - The payload is encrypted for the subscription (`aes128gcm`, RFC 8291) by
//!   the `web-push-native` crate.
//! - The request is signed with the instance's VAPID key (RFC 8292): an ES256
//!   JWT, signed with ring's ECDSA P-256.
//! - The key is made once and kept in the store's settings, because every
//!   subscription is bound to it.

use super::SendError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use lapor_domain::Error;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde::{Deserialize, Serialize};

/// How long a push service keeps an undelivered message (TTL header): a
/// phone that is off for a day still hears of its report.
pub const TTL_SECONDS: u32 = 24 * 60 * 60;
/// Push services refuse larger encrypted bodies; RFC 8291 leaves 3,993
/// bytes of plaintext in one 4,096-byte record.
pub const MAX_PAYLOAD: usize = 3_993;

/// The instance's VAPID identity.
pub struct Vapid {
    key: EcdsaKeyPair,
    /// Who runs this instance (`mailto:` or `https:`), for push services to reach.
    contact: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vapid({}, {})", self.public_key(), self.contact)
    }
}

impl Vapid {
    /// A new private key as a PKCS#8 document, base64url: what the settings keep.
    pub fn generate() -> String {
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .expect("the system random generator works");
        B64.encode(doc.as_ref())
    }

    pub fn from_setting(pkcs8_b64: &str, contact: &str) -> Result<Vapid, Error> {
        let der = B64
            .decode(pkcs8_b64.trim())
            .map_err(|_| Error::internal("vapid key: not base64url"))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
            .map_err(|e| Error::internal(format!("vapid key: {e}")))?;
        Ok(Vapid {
            key,
            contact: contact.to_string(),
        })
    }

    /// The public key as browsers take it (`applicationServerKey`):
    /// the uncompressed point, base64url.
    pub fn public_key(&self) -> String {
        B64.encode(self.key.public_key().as_ref())
    }

    /// The `Authorization` header for a push service: a JWT for the
    /// endpoint's origin, valid 12 hours from `now` (Unix seconds).
    pub fn authorization(&self, endpoint: &reqwest::Url, now: i64) -> Result<String, SendError> {
        let origin = endpoint.origin().ascii_serialization();
        let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": origin, "exp": now + 12 * 3600, "sub": self.contact });
        let claims = B64.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let sig = self
            .key
            .sign(&SystemRandom::new(), signed.as_bytes())
            .map_err(|_| SendError::Transient("vapid: signing failed".into()))?;
        Ok(format!(
            "vapid t={signed}.{}, k={}",
            B64.encode(sig.as_ref()),
            self.public_key()
        ))
    }
}

/// What sending needs at run time.
#[derive(Debug)]
pub struct PushRuntime {
    pub vapid: Vapid,
    pub http: reqwest::Client,
}

impl PushRuntime {
    pub fn new(vapid_setting: &str, contact: &str) -> Result<PushRuntime, Error> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::internal(format!("push client: {e}")))?;
        Ok(PushRuntime {
            vapid: Vapid::from_setting(vapid_setting, contact)?,
            http,
        })
    }
}

/// What a browser's `PushSubscription.toJSON()` gives: where to send, and
/// the keys to encrypt for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, uncompressed, base64url.
    pub p256dh: String,
    /// The 16-byte authentication secret, base64url.
    pub auth: String,
}

/// A checked subscription, ready to encrypt for.
pub struct Target {
    pub endpoint: reqwest::Url,
    public: web_push_native::p256::PublicKey,
    auth: web_push_native::Auth,
}

impl Target {
    /// Checks what a browser sent: an `https` endpoint (plain `http` only to
    /// a loopback address, and only when `allow_loopback`, for tests and
    /// local stand-ins), a valid curve point, and a 16-byte secret.
    pub fn parse(endpoint: &str, keys: &SubscriptionKeys, allow_loopback: bool) -> Result<Target, Error> {
        let url = reqwest::Url::parse(endpoint).map_err(|_| Error::validation("endpoint: not a URL"))?;
        let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
        // Push services are public hosts; an address inside a network would
        // let a subscriber make the server call it.
        let internal = match url.host() {
            Some(url::Host::Ipv4(ip)) => {
                ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
            }
            Some(url::Host::Ipv6(ip)) => {
                ip.is_loopback()
                    || ip.is_unspecified()
                    || (ip.segments()[0] & 0xfe00) == 0xfc00
                    || (ip.segments()[0] & 0xffc0) == 0xfe80
            }
            Some(url::Host::Domain(d)) => {
                d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") || d.ends_with(".internal")
            }
            None => true,
        };
        let allowed = match url.scheme() {
            "https" => !internal || (loopback && allow_loopback),
            "http" => loopback && allow_loopback,
            _ => false,
        };
        if !allowed || url.host_str().is_none() || endpoint.len() > 1024 {
            return Err(Error::validation("endpoint: an https URL of a push service"));
        }
        let public = B64
            .decode(keys.p256dh.trim_end_matches('='))
            .ok()
            .and_then(|b| web_push_native::p256::PublicKey::from_sec1_bytes(&b).ok())
            .ok_or_else(|| Error::validation("keys.p256dh: a P-256 public key, base64url"))?;
        let auth = B64
            .decode(keys.auth.trim_end_matches('='))
            .ok()
            .filter(|b| b.len() == 16)
            .ok_or_else(|| Error::validation("keys.auth: 16 bytes, base64url"))?;
        Ok(Target {
            endpoint: url,
            public,
            auth: web_push_native::Auth::clone_from_slice(&auth),
        })
    }
}

/// Sends one encrypted message. `topic` lets the push service replace a
/// message still waiting with a newer one of the same topic (and a resend
/// after a crash with itself).
pub async fn send(
    http: &reqwest::Client,
    vapid: &Vapid,
    to: &Target,
    payload: &[u8],
    topic: &str,
    now: i64,
) -> Result<(), SendError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(SendError::Permanent(format!("push payload of {} bytes", payload.len())));
    }
    let body = web_push_native::encrypt(payload.to_vec(), &to.public, &to.auth)
        .map_err(|e| SendError::Permanent(format!("push encryption: {e}")))?;
    let resp = http
        .post(to.endpoint.clone())
        .header("TTL", TTL_SECONDS.to_string())
        .header("Content-Encoding", "aes128gcm")
        .header("Content-Type", "application/octet-stream")
        .header("Urgency", "normal")
        .header("Topic", topic_token(topic))
        .header("Authorization", vapid.authorization(&to.endpoint, now)?)
        .body(body)
        .send()
        .await
        .map_err(|e| SendError::Transient(format!("push service: {e}")))?;
    let status = resp.status().as_u16();
    match status {
        200..=202 => Ok(()),
        // The user unsubscribed, or the browser's data was cleared.
        404 | 410 => Err(SendError::Undeliverable(format!("push subscription gone ({status})"))),
        400 | 403 | 413 => Err(SendError::Permanent(format!(
            "push service refused the message ({status})"
        ))),
        _ => Err(SendError::Transient(format!("push service answered {status}"))),
    }
}

/// A `Topic` header value: at most 32 base64url characters (RFC 8030).
fn topic_token(topic: &str) -> String {
    use sha2::{Digest, Sha256};
    B64.encode(&Sha256::digest(topic.as_bytes())[..24])
}

/// What the service worker shows: the notification's words, where a tap
/// leads, and a tag so a resend replaces instead of repeating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub title: String,
    pub body: String,
    pub url: String,
    pub tag: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vapid_token_is_a_verifiable_es256_jwt_for_the_endpoints_origin() {
        let v = Vapid::from_setting(&Vapid::generate(), "mailto:pengelola@lapor.go.id").unwrap();
        let url = reqwest::Url::parse("https://push.example.net:8443/wpush/v2/abc").unwrap();
        let h = v.authorization(&url, 1_800_000_000).unwrap();
        let (t, k) = h.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, v.public_key());
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["exp"], 1_800_000_000 + 12 * 3600);
        let key =
            ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, B64.decode(k).unwrap());
        key.verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &B64.decode(parts[2]).unwrap(),
        )
        .expect("the signature verifies");
    }

    #[test]
    fn subscriptions_are_checked() {
        let v = Vapid::from_setting(&Vapid::generate(), "mailto:a@b.c").unwrap();
        // Any valid P-256 point will do as a browser key here.
        let keys = SubscriptionKeys {
            p256dh: v.public_key(),
            auth: B64.encode([7u8; 16]),
        };
        assert!(Target::parse("https://fcm.googleapis.com/fcm/send/x", &keys, false).is_ok());
        assert!(Target::parse("http://fcm.googleapis.com/fcm/send/x", &keys, false).is_err());
        assert!(Target::parse("http://127.0.0.1:9/push/1", &keys, false).is_err());
        assert!(Target::parse("http://127.0.0.1:9/push/1", &keys, true).is_ok());
        assert!(
            Target::parse("https://127.0.0.1/push/1", &keys, false).is_err(),
            "no loopback in production"
        );
        assert!(Target::parse("file:///etc/passwd", &keys, true).is_err());
        for inside in [
            "https://10.1.2.3/p",
            "https://192.168.0.9/p",
            "https://169.254.169.254/latest",
            "https://[fd00::1]/p",
            "https://localhost/p",
        ] {
            assert!(Target::parse(inside, &keys, true).is_err(), "{inside}");
        }
        let bad_point = SubscriptionKeys {
            p256dh: B64.encode([4u8; 65]),
            ..keys.clone()
        };
        assert!(Target::parse("https://p.example/x", &bad_point, false).is_err());
        let short_auth = SubscriptionKeys {
            auth: B64.encode([1u8; 8]),
            ..keys
        };
        assert!(Target::parse("https://p.example/x", &short_auth, false).is_err());
    }
}
