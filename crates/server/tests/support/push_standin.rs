//! A local stand-in for a browser vendor's push service (RFC 8030), strict
//! where real ones are:
//! - the VAPID token (RFC 8292): an ES256 JWT for this service's origin,
//!   expiring within 24 hours, naming a contact, and signed by the key the
//!   subscription was made for;
//! - the headers: `TTL`, and `Content-Encoding: aes128gcm`;
//! - the body: it is decrypted here as the browser would (RFC 8291 key
//!   derivation, RFC 8188 record), with this file's own code (p256 for the
//!   key agreement, ring for HKDF and AES-GCM), not the sender's.
//!
//! What it does not cover: delivery to a device, the services' rate limits,
//! and their per-vendor quirks (payload size limits below 4 KB, `Urgency`).

#![allow(dead_code)]

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::{aead, hkdf};
use std::sync::{Arc, Mutex};
use web_push_native::p256;

/// One subscription as a browser holds it: its keys and the server key it
/// was made for (`applicationServerKey`).
struct Sub {
    secret: p256::SecretKey,
    auth: [u8; 16],
    server_key: String,
    /// Answer 410 Gone: the user unsubscribed.
    gone: bool,
}

/// A message the service accepted, decrypted.
#[derive(Debug, Clone)]
pub struct Received {
    pub subscription: usize,
    pub plaintext: Vec<u8>,
    pub ttl: u32,
    pub topic: Option<String>,
}

#[derive(Default)]
struct Inner {
    subs: Vec<Sub>,
    received: Vec<Received>,
    refused: Vec<String>,
}

#[derive(Clone)]
pub struct PushStandIn {
    pub origin: String,
    inner: Arc<Mutex<Inner>>,
}

/// What `PushSubscription.toJSON()` would give.
pub struct BrowserSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

impl PushStandIn {
    pub async fn start() -> PushStandIn {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/push/{n}", post(deliver))
            .with_state((origin.clone(), inner.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        PushStandIn { origin, inner }
    }

    /// A browser subscribing with the server's public key.
    pub fn subscribe(&self, server_key: &str) -> BrowserSubscription {
        let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let public = secret.public_key().to_sec1_bytes();
        let mut auth = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut auth).unwrap();
        let mut inner = self.inner.lock().unwrap();
        inner.subs.push(Sub {
            secret,
            auth,
            server_key: server_key.to_string(),
            gone: false,
        });
        BrowserSubscription {
            endpoint: format!("{}/push/{}", self.origin, inner.subs.len() - 1),
            p256dh: B64.encode(public),
            auth: B64.encode(auth),
        }
    }

    /// The user revokes the permission: the service answers 410 from now on.
    pub fn unsubscribe(&self, endpoint: &str) {
        let n: usize = endpoint.rsplit('/').next().unwrap().parse().unwrap();
        self.inner.lock().unwrap().subs[n].gone = true;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Why requests were refused (400/401/403), for test messages.
    pub fn refused(&self) -> Vec<String> {
        self.inner.lock().unwrap().refused.clone()
    }
}

type Shared = (String, Arc<Mutex<Inner>>);

async fn deliver(
    State((origin, inner)): State<Shared>,
    Path(n): Path<usize>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let mut g = inner.lock().unwrap();
    let Some(sub) = g.subs.get(n) else {
        return StatusCode::NOT_FOUND;
    };
    if sub.gone {
        return StatusCode::GONE;
    }
    let checked = check(&origin, sub, &headers, &body).map(|(plaintext, ttl)| Received {
        subscription: n,
        plaintext,
        ttl,
        topic: headers.get("topic").and_then(|v| v.to_str().ok()).map(str::to_string),
    });
    match checked {
        Ok(r) => {
            g.received.push(r);
            StatusCode::CREATED
        }
        Err((status, why)) => {
            g.refused.push(why);
            status
        }
    }
}

type Refusal = (StatusCode, String);

fn bad(status: StatusCode, why: impl Into<String>) -> Refusal {
    (status, why.into())
}

fn check(origin: &str, sub: &Sub, headers: &HeaderMap, body: &[u8]) -> Result<(Vec<u8>, u32), Refusal> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    verify_vapid(origin, &sub.server_key, header("authorization"))?;
    let ttl: u32 = header("ttl")
        .parse()
        .map_err(|_| bad(StatusCode::BAD_REQUEST, "TTL missing"))?;
    if header("content-encoding") != "aes128gcm" {
        return Err(bad(StatusCode::BAD_REQUEST, "Content-Encoding is not aes128gcm"));
    }
    let plaintext = decrypt(sub, body).map_err(|why| bad(StatusCode::BAD_REQUEST, why))?;
    Ok((plaintext, ttl))
}

fn verify_vapid(origin: &str, server_key: &str, authorization: &str) -> Result<(), Refusal> {
    let unauthorized = |why: &str| bad(StatusCode::UNAUTHORIZED, why);
    let rest = authorization
        .strip_prefix("vapid ")
        .ok_or_else(|| unauthorized("not a vapid authorization"))?;
    let (mut t, mut k) = ("", "");
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v,
            Some(("k", v)) => k = v,
            _ => {}
        }
    }
    if k != server_key {
        return Err(bad(
            StatusCode::FORBIDDEN,
            "k is not the key the subscription was made for",
        ));
    }
    let parts: Vec<&str> = t.split('.').collect();
    if parts.len() != 3 {
        return Err(unauthorized("t is not a JWT"));
    }
    let decode_json = |s: &str| -> Option<serde_json::Value> { serde_json::from_slice(&B64.decode(s).ok()?).ok() };
    let head = decode_json(parts[0]).ok_or_else(|| unauthorized("JWT header"))?;
    if head["alg"] != "ES256" || head["typ"] != "JWT" {
        return Err(unauthorized("JWT header is not ES256/JWT"));
    }
    let claims = decode_json(parts[1]).ok_or_else(|| unauthorized("JWT claims"))?;
    if claims["aud"] != origin {
        return Err(unauthorized("aud is not this push service's origin"));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let exp = claims["exp"].as_i64().unwrap_or(0);
    if exp <= now || exp > now + 24 * 3600 {
        return Err(unauthorized("exp is not within the next 24 hours"));
    }
    let sub = claims["sub"].as_str().unwrap_or("");
    if !(sub.starts_with("mailto:") || sub.starts_with("https:")) {
        return Err(unauthorized("sub is neither mailto: nor https:"));
    }
    let key = B64.decode(k).map_err(|_| unauthorized("k is not base64url"))?;
    let sig = B64
        .decode(parts[2])
        .map_err(|_| unauthorized("signature is not base64url"))?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, key)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .map_err(|_| unauthorized("the signature does not verify"))
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf_expand(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let mut out = vec![0u8; len];
    let info = [info];
    prk.expand(&info, Len(len)).unwrap().fill(&mut out).unwrap();
    out
}

/// RFC 8188 header (salt, record size, key id = the sender's public key),
/// RFC 8291 key derivation, one record ending in the 0x02 delimiter.
fn decrypt(sub: &Sub, body: &[u8]) -> Result<Vec<u8>, String> {
    if body.len() < 21 {
        return Err("body shorter than the aes128gcm header".into());
    }
    let salt = &body[..16];
    let rs = u32::from_be_bytes(body[16..20].try_into().unwrap()) as usize;
    let idlen = body[20] as usize;
    if idlen != 65 || body.len() < 21 + idlen + 17 {
        return Err(format!("key id of {idlen} bytes; a P-256 point has 65"));
    }
    let sender = &body[21..21 + idlen];
    let record = &body[21 + idlen..];
    if record.len() > rs {
        return Err("more than one record".into());
    }
    let sender_key = p256::PublicKey::from_sec1_bytes(sender).map_err(|_| "key id is not a P-256 point")?;
    let shared = p256::ecdh::diffie_hellman(sub.secret.to_nonzero_scalar(), sender_key.as_affine());
    let own = sub.secret.public_key().to_sec1_bytes();
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(&own);
    info.extend_from_slice(sender);
    let ikm = hkdf_expand(&sub.auth, shared.raw_secret_bytes().as_slice(), &info, 32);
    let cek = hkdf_expand(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16);
    let nonce = hkdf_expand(salt, &ikm, b"Content-Encoding: nonce\0", 12);
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).unwrap());
    let mut buf = record.to_vec();
    let plain = key
        .open_in_place(
            aead::Nonce::try_assume_unique_for_key(&nonce).unwrap(),
            aead::Aad::empty(),
            &mut buf,
        )
        .map_err(|_| "the record does not decrypt")?;
    // Padding: the last non-zero byte is the delimiter, 0x02 for the last record.
    let end = plain.iter().rposition(|b| *b != 0).ok_or("no delimiter")?;
    if plain[end] != 2 {
        return Err(format!("delimiter {:#x}, not 0x02 (last record)", plain[end]));
    }
    Ok(plain[..end].to_vec())
}
