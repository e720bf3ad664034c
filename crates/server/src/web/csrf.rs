//! CSRF tokens: an HMAC of the browser's random id cookie under the
//! instance key. A forged cross-site form cannot read the cookie, so it
//! cannot compute the token; nothing needs to be stored server-side.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub fn token(key: &[u8], browser_id: &str) -> String {
    keyed(key, "csrf", browser_id)
}

/// An opaque tag of `value` for `purpose` under the instance key.
pub fn keyed(key: &[u8], purpose: &str, value: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac accepts any key length");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(value.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Constant-time comparison.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Browser ids are our own random tokens; anything else is replaced.
pub fn valid_browser_id(b: &str) -> bool {
    (20..=64).contains(&b.len()) && b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_the_browser_and_key() {
        let a = token(b"k1", "browser-aaaaaaaaaaaaaaaa");
        assert_eq!(a, token(b"k1", "browser-aaaaaaaaaaaaaaaa"));
        assert_ne!(a, token(b"k2", "browser-aaaaaaaaaaaaaaaa"));
        assert_ne!(a, token(b"k1", "browser-bbbbbbbbbbbbbbbb"));
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, ""));
        assert!(!valid_browser_id("short"));
        assert!(!valid_browser_id("has spaces in it, not allowed"));
    }
}
