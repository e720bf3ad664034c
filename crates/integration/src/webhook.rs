//! Standard Webhooks (standardwebhooks.com) signatures. Each delivery carries
//! `webhook-id` (the same on every retry, so receivers drop repeats),
//! `webhook-timestamp` (Unix seconds) and `webhook-signature`: one or more
//! space-separated `v1,<base64 HMAC-SHA256>` over `id.timestamp.body`, keyed
//! with the subscription's secret. While a secret is being rotated, both the
//! old and the new one sign, so a receiver holding either keeps verifying.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a timestamp may be from the receiver's clock (the spec's
/// suggestion), which bounds how long a captured delivery can be replayed.
pub const TOLERANCE_SECS: i64 = 5 * 60;
const PREFIX: &str = "whsec_";
/// Secrets shorter than this are refused: the key is the only protection.
const MIN_SECRET_BYTES: usize = 24;
const MAX_SECRET_BYTES: usize = 64;
const MAX_ID_LEN: usize = 256;
/// More signatures than this in one header is not a rotation, it is noise.
const MAX_SIGNATURES: usize = 8;

pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// A subscription's signing secret, shown to integrators as `whsec_<base64>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    // Never print the key itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretError {
    NotBase64,
    /// The key is shorter than 24 or longer than 64 bytes.
    BadLength(usize),
}

impl Secret {
    /// From 32 random bytes the caller drew (this crate does no I/O).
    pub fn from_random(bytes: [u8; 32]) -> Secret {
        Secret(bytes.to_vec())
    }

    /// Reads `whsec_<base64>` (the prefix may be left out).
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        let b64 = text.trim().strip_prefix(PREFIX).unwrap_or(text.trim());
        let key = B64.decode(b64).map_err(|_| SecretError::NotBase64)?;
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&key.len()) {
            return Err(SecretError::BadLength(key.len()));
        }
        Ok(Secret(key))
    }

    /// The form integrators copy: `whsec_<base64>`.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", B64.encode(&self.0))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// One `v1,<base64>` signature.
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1,{}",
        B64.encode(secret.mac(id, timestamp, body).finalize().into_bytes())
    )
}

/// The three headers of a delivery, signed with every active secret (two
/// while rotating).
pub fn headers(secrets: &[&Secret], id: &str, timestamp: i64, body: &[u8]) -> [(&'static str, String); 3] {
    let signature = secrets
        .iter()
        .map(|s| sign(s, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ");
    [
        (HEADER_ID, id.to_string()),
        (HEADER_TIMESTAMP, timestamp.to_string()),
        (HEADER_SIGNATURE, signature),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// A header is missing, empty or too long.
    Missing(&'static str),
    BadTimestamp,
    /// Older than the tolerance: possibly a replay.
    TooOld,
    /// Ahead of the receiver's clock by more than the tolerance.
    TooNew,
    /// No `v1` signature matched any of the secrets.
    NoMatch,
}

/// Checks a delivery as a receiver does: the timestamp is within
/// [`TOLERANCE_SECS`] of `now`, and some `v1` signature in the header
/// matches one of `secrets` (compared in constant time).
pub fn verify(
    secrets: &[Secret],
    id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(VerifyError::Missing(HEADER_ID));
    }
    let ts: i64 = timestamp.trim().parse().map_err(|_| VerifyError::BadTimestamp)?;
    if now.saturating_sub(ts) > TOLERANCE_SECS {
        return Err(VerifyError::TooOld);
    }
    if ts.saturating_sub(now) > TOLERANCE_SECS {
        return Err(VerifyError::TooNew);
    }
    if signature.trim().is_empty() {
        return Err(VerifyError::Missing(HEADER_SIGNATURE));
    }
    let given: Vec<Vec<u8>> = signature
        .split_whitespace()
        .take(MAX_SIGNATURES)
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b| B64.decode(b).ok())
        .collect();
    let ok = secrets
        .iter()
        .any(|secret| given.iter().any(|g| secret.mac(id, ts, body).verify_slice(g).is_ok()));
    if ok { Ok(()) } else { Err(VerifyError::NoMatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector published with the Standard Webhooks specification.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_published_vector() {
        let s = Secret::parse(SECRET).unwrap();
        assert_eq!(sign(&s, ID, TS, BODY), EXPECTED);
        assert_eq!(verify(&[s], ID, "1614265330", EXPECTED, BODY, TS + 10), Ok(()));
    }

    #[test]
    fn tampering_and_replays_are_refused() {
        let s = Secret::parse(SECRET).unwrap();
        let v = |id: &str, ts: &str, sig: &str, body: &[u8], now: i64| {
            verify(std::slice::from_ref(&s), id, ts, sig, body, now)
        };
        assert_eq!(
            v(ID, "1614265330", EXPECTED, br#"{"test": 2432232315}"#, TS),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            v("msg_other", "1614265330", EXPECTED, BODY, TS),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(v(ID, "1614265331", EXPECTED, BODY, TS), Err(VerifyError::NoMatch));
        assert_eq!(
            v(ID, "1614265330", EXPECTED, BODY, TS + TOLERANCE_SECS + 1),
            Err(VerifyError::TooOld)
        );
        assert_eq!(
            v(ID, "1614265330", EXPECTED, BODY, TS - TOLERANCE_SECS - 1),
            Err(VerifyError::TooNew)
        );
        assert_eq!(v(ID, "yesterday", EXPECTED, BODY, TS), Err(VerifyError::BadTimestamp));
        assert_eq!(
            v("", "1614265330", EXPECTED, BODY, TS),
            Err(VerifyError::Missing(HEADER_ID))
        );
        assert_eq!(
            v(ID, "1614265330", "", BODY, TS),
            Err(VerifyError::Missing(HEADER_SIGNATURE))
        );
        assert_eq!(
            v(ID, "1614265330", "v2,abc v1,!!!", BODY, TS),
            Err(VerifyError::NoMatch)
        );
        // Extreme timestamps neither overflow nor pass.
        assert_eq!(
            v(ID, &i64::MIN.to_string(), EXPECTED, BODY, TS),
            Err(VerifyError::TooOld)
        );
        assert_eq!(
            v(ID, &i64::MAX.to_string(), EXPECTED, BODY, TS),
            Err(VerifyError::TooNew)
        );
    }

    #[test]
    fn rotation_signs_with_both_and_either_verifies() {
        let old = Secret::parse(SECRET).unwrap();
        let new = Secret::from_random([7; 32]);
        let h = headers(&[&old, &new], ID, TS, BODY);
        assert_eq!(h[0], (HEADER_ID, ID.to_string()));
        assert_eq!(h[1], (HEADER_TIMESTAMP, TS.to_string()));
        assert!(h[2].1.starts_with(EXPECTED) && h[2].1.split(' ').count() == 2);
        for receiver in [&old, &new] {
            assert_eq!(
                verify(std::slice::from_ref(receiver), ID, &h[1].1, &h[2].1, BODY, TS),
                Ok(())
            );
        }
        // After the overlap only the new secret signs; the old one no longer verifies.
        let after = headers(&[&new], ID, TS, BODY);
        assert_eq!(
            verify(&[old], ID, &after[1].1, &after[2].1, BODY, TS),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn secrets_round_trip_and_weak_ones_are_refused() {
        let s = Secret::from_random([42; 32]);
        assert_eq!(Secret::parse(&s.expose()).unwrap(), s);
        assert!(s.expose().starts_with("whsec_"));
        assert_eq!(format!("{s:?}"), "Secret(32 bytes)", "the key is never printed");
        assert_eq!(Secret::parse("whsec_c2hvcnQ="), Err(SecretError::BadLength(5)));
        assert_eq!(Secret::parse("whsec_***"), Err(SecretError::NotBase64));
    }
}
