//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1,
//! 6 digits, 30-second steps): the second factor that authenticator apps
//! (Google Authenticator, Aegis, Microsoft Authenticator) all speak.
//!
//! Pure: the caller passes the secret, the clock and any randomness. A
//! verified code returns its time step, so the caller can refuse the same
//! code twice (replay) by remembering the last step used.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per step, as every authenticator app assumes.
pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Secrets are 160 bits, the size RFC 4226 recommends for HMAC-SHA1.
pub const SECRET_BYTES: usize = 20;

/// RFC 4226 HOTP value for a counter, `digits` long (6–8).
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("hmac accepts any key length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    // Dynamic truncation: the low nibble of the last byte picks 4 bytes.
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    bin % 10u32.pow(digits.clamp(6, 8))
}

/// The time step containing a Unix time.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The code an authenticator shows at a Unix time, zero-padded.
pub fn code_at(secret: &[u8], unix_seconds: i64) -> String {
    let step = step_at(unix_seconds).max(0) as u64;
    format!("{:0width$}", hotp(secret, step, DIGITS), width = DIGITS as usize)
}

/// Checks a typed code against the steps around `unix_seconds` (one step
/// either side, for clock drift and typing time). Spaces are ignored.
/// Returns the matching step, which must be later than `last_used_step`
/// (a code is good once).
pub fn verify(secret: &[u8], typed: &str, unix_seconds: i64, last_used_step: Option<i64>) -> Option<i64> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_seconds);
    let mut found = None;
    // Every candidate is computed, so timing does not reveal which matched.
    for step in [now - 1, now, now + 1] {
        if step < 0 {
            continue;
        }
        let expected = format!("{:0width$}", hotp(secret, step as u64, DIGITS), width = DIGITS as usize);
        let same = expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if same && last_used_step.is_none_or(|last| step > last) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, the form authenticator apps accept.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes base32 as people type it: any case, spaces and '=' ignored.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = B32.iter().position(|&b| b as char == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

fn uri_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'@') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `otpauth://` URI an authenticator app scans from a QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        uri_escape(issuer),
        uri_escape(account),
        base32_encode(secret),
        uri_escape(issuer)
    )
}

/// Ten single-use recovery codes (`xxxx-xxxx`, base32 without look-alike
/// letters) from caller-supplied random bytes, 5 bytes per code.
pub fn recovery_codes(random: &[u8; 50]) -> Vec<String> {
    const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    random
        .chunks(5)
        .map(|c| {
            let n = c.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            let s: String = (0..8)
                .rev()
                .map(|i| ALPHABET[((n >> (i * 5)) & 31) as usize] as char)
                .collect();
            format!("{}-{}", &s[..4], &s[4..])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn hotp_matches_rfc_4226_appendix_d() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64, 6), *want, "counter {counter}");
        }
    }

    #[test]
    fn totp_matches_rfc_6238_appendix_b_sha1() {
        for (t, want) in [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(RFC_SECRET, step_at(t) as u64, 8), want, "T={t}");
        }
        assert_eq!(code_at(RFC_SECRET, 59), "287082");
    }

    #[test]
    fn verify_accepts_drift_of_one_step_once() {
        let t = 1_764_000_000;
        let code = code_at(RFC_SECRET, t);
        let step = verify(RFC_SECRET, &code, t, None).unwrap();
        assert_eq!(step, step_at(t));
        assert_eq!(
            verify(RFC_SECRET, &code, t + 30, None),
            Some(step),
            "one step late is fine"
        );
        assert_eq!(
            verify(RFC_SECRET, &code, t - 30, None),
            Some(step),
            "one step early is fine"
        );
        assert_eq!(verify(RFC_SECRET, &code, t + 90, None), None, "three steps late is not");
        assert_eq!(verify(RFC_SECRET, &code, t, Some(step)), None, "a used code is refused");
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(RFC_SECRET, &spaced, t, None), Some(step));
        for bad in ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"] {
            assert_eq!(verify(RFC_SECRET, bad, t, None), None, "{bad}");
        }
    }

    #[test]
    fn base32_roundtrip_and_rfc_4648_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(raw.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap(), raw.as_bytes());
        }
        assert_eq!(base32_decode("mzxw 6ytb oi==").unwrap(), b"foobar");
        assert!(base32_decode("MZXW1").is_none());
        let secret: Vec<u8> = (0..SECRET_BYTES as u8).collect();
        assert_eq!(base32_decode(&base32_encode(&secret)).unwrap(), secret);
    }

    #[test]
    fn otpauth_uri_and_recovery_codes() {
        let uri = otpauth_uri("LAPOR!", "admin.bandung@lapor.demo", RFC_SECRET);
        assert_eq!(
            uri,
            "otpauth://totp/LAPOR%21:admin.bandung@lapor.demo?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=LAPOR%21&algorithm=SHA1&digits=6&period=30"
        );
        let codes = recovery_codes(&[7u8; 50]);
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 9 && c.as_bytes()[4] == b'-'));
        let mut random = [0u8; 50];
        for (i, b) in random.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        let distinct: std::collections::HashSet<_> = recovery_codes(&random).into_iter().collect();
        assert_eq!(distinct.len(), 10);
    }
}
