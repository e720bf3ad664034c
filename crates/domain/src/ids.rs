//! Public identifiers handed to reporters: the Tracking ID and the PIN.
//!
//! A Tracking ID must survive being read out over the phone and typed into an
//! SMS, so it uses Crockford's base-32 alphabet (no I, L, O or U), is eight
//! symbols long shown as `XXXX-XXXX`, and its last symbol is a check symbol
//! that catches any single mistyped symbol. Randomness comes from the caller,
//! which keeps this module pure.

use crate::error::{Error, ErrorCode};
use serde::{Deserialize, Serialize};
use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BODY_LEN: usize = 7;

/// The public identifier of a report, e.g. `7KQ4-M2XJ`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingId(String);

fn symbol_value(c: char) -> Option<u32> {
    // Crockford decoding: case-insensitive, I/L read as 1, O read as 0.
    let c = match c.to_ascii_uppercase() {
        'I' | 'L' => '1',
        'O' => '0',
        other => other,
    };
    ALPHABET.iter().position(|&a| a as char == c).map(|p| p as u32)
}

/// Weighted sum with odd weights: every single substitution changes the sum
/// modulo 32, so a mistyped symbol is always caught.
fn check_symbol(body: &[u32]) -> u32 {
    body.iter()
        .enumerate()
        .map(|(i, v)| v * (2 * i as u32 + 1))
        .sum::<u32>()
        % 32
}

impl TrackingId {
    /// Builds an ID from 35 random bits (the rest of `random` is ignored).
    pub fn from_random(random: u64) -> TrackingId {
        let mut vals = [0u32; BODY_LEN];
        for (i, v) in vals.iter_mut().enumerate() {
            *v = ((random >> (5 * i)) & 31) as u32;
        }
        let check = check_symbol(&vals);
        let mut s = String::with_capacity(9);
        for (i, v) in vals.iter().chain(std::iter::once(&check)).enumerate() {
            if i == 4 {
                s.push('-');
            }
            s.push(ALPHABET[*v as usize] as char);
        }
        TrackingId(s)
    }

    /// Parses what a person typed: any case, with or without the dash or
    /// spaces, with I/L/O accepted as 1/1/0. Rejects a wrong check symbol.
    pub fn parse(input: &str) -> Result<TrackingId, Error> {
        let bad = || Error::with(ErrorCode::NotFound, "tracking id");
        let mut vals = Vec::with_capacity(BODY_LEN + 1);
        for c in input.trim().chars() {
            if c == '-' || c == ' ' {
                continue;
            }
            vals.push(symbol_value(c).ok_or_else(bad)?);
            if vals.len() > BODY_LEN + 1 {
                return Err(bad());
            }
        }
        if vals.len() != BODY_LEN + 1 || check_symbol(&vals[..BODY_LEN]) != vals[BODY_LEN] {
            return Err(bad());
        }
        let mut s = String::with_capacity(9);
        for (i, v) in vals.iter().enumerate() {
            if i == 4 {
                s.push('-');
            }
            s.push(ALPHABET[*v as usize] as char);
        }
        Ok(TrackingId(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrackingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TrackingId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        TrackingId::parse(&s)
    }
}

impl From<TrackingId> for String {
    fn from(t: TrackingId) -> String {
        t.0
    }
}

/// Number of digits in a report PIN. Eight digits keep it easy to read out
/// while making guessing impractical once lookups are rate-limited.
pub const PIN_DIGITS: usize = 8;

/// Formats a PIN from random bits.
pub fn pin_from_random(random: u64) -> String {
    format!("{:0width$}", random % 10u64.pow(PIN_DIGITS as u32), width = PIN_DIGITS)
}

/// True when `pin` has the PIN shape (after trimming spaces).
pub fn pin_well_formed(pin: &str) -> bool {
    let p = pin.trim();
    p.len() == PIN_DIGITS && p.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_roundtrip() {
        for seed in [0u64, 1, 42, u64::MAX, 0x1234_5678_9abc] {
            let t = TrackingId::from_random(seed);
            assert_eq!(t.as_str().len(), 9);
            assert_eq!(&t.as_str()[4..5], "-");
            assert_eq!(TrackingId::parse(t.as_str()).unwrap(), t);
            let loose = t.as_str().replace('-', " ").to_lowercase();
            assert_eq!(TrackingId::parse(&loose).unwrap(), t);
        }
    }

    #[test]
    fn every_single_substitution_is_caught() {
        let t = TrackingId::from_random(987_654_321);
        let chars: Vec<char> = t.as_str().chars().collect();
        for pos in 0..chars.len() {
            if chars[pos] == '-' {
                continue;
            }
            for &a in ALPHABET {
                let a = a as char;
                if a == chars[pos] {
                    continue;
                }
                let mut c = chars.clone();
                c[pos] = a;
                let s: String = c.into_iter().collect();
                assert!(TrackingId::parse(&s).is_err(), "{s} accepted");
            }
        }
    }

    #[test]
    fn confusable_letters_are_read_as_digits() {
        // Find an id containing a 1 or 0 and type it with I/L/O instead.
        let t = (0..10_000u64)
            .map(|s| TrackingId::from_random(s * 7919))
            .find(|t| t.as_str().contains('1') || t.as_str().contains('0'))
            .unwrap();
        let typed = t.as_str().replace('1', "l").replace('0', "O");
        assert_eq!(TrackingId::parse(&typed).unwrap(), t);
    }

    #[test]
    fn garbage_is_rejected() {
        for s in ["", "ABC", "ABCD-EFGH-J", "ÄÖÜ", "1234-567U", "@@@@-@@@@"] {
            assert!(TrackingId::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn pins() {
        assert_eq!(pin_from_random(42), "00000042");
        assert!(pin_well_formed(&pin_from_random(u64::MAX)));
        assert!(!pin_well_formed("1234"));
        assert!(!pin_well_formed("12a45678"));
    }
}
