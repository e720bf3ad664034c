//! Per-sender limits and basic spam rules, kept in memory on each node (a
//! sender usually lands on one node per burst; the block list in the
//! database is what holds across nodes).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const DEFAULT_PER_MINUTE: u32 = 20;
const WINDOW: Duration = Duration::from_secs(60);
/// The same text this many times in a window is a flood.
const MAX_REPEATS: u32 = 5;
/// More links than this in one message reads as spam.
const MAX_LINKS: usize = 3;
const MAX_TRACKED: usize = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Over the rate: the first refusal in a window gets a polite answer,
    /// the rest are dropped silently.
    Limited {
        tell: bool,
    },
    Spam(&'static str),
}

struct Window {
    start: Instant,
    count: u32,
    told: bool,
    last_text: u64,
    repeats: u32,
}

#[derive(Default)]
pub struct Limits {
    windows: Mutex<HashMap<(String, String), Window>>,
}

fn digest(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.trim().to_lowercase().hash(&mut h);
    h.finish()
}

/// Spam rules that need nothing but the text.
pub fn spam_rule(text: &str) -> Option<&'static str> {
    // One link per word, however it is written ("https://www.…" is one).
    let links = text
        .split_whitespace()
        .filter(|w| {
            let w = w.to_ascii_lowercase();
            w.contains("http://") || w.contains("https://") || w.starts_with("www.")
        })
        .count();
    if links > MAX_LINKS {
        return Some("too_many_links");
    }
    None
}

impl Limits {
    pub fn check(
        &self,
        channel: &str,
        sender: &str,
        text: &str,
        per_minute: u32,
        spam_rules: bool,
        now: Instant,
    ) -> Verdict {
        if spam_rules && let Some(rule) = spam_rule(text) {
            return Verdict::Spam(rule);
        }
        let Ok(mut map) = self.windows.lock() else {
            return Verdict::Allow;
        };
        if map.len() > MAX_TRACKED {
            map.retain(|_, w| now.duration_since(w.start) < WINDOW);
        }
        let d = digest(text);
        let w = map.entry((channel.to_string(), sender.to_string())).or_insert(Window {
            start: now,
            count: 0,
            told: false,
            last_text: 0,
            repeats: 0,
        });
        if now.duration_since(w.start) >= WINDOW {
            *w = Window {
                start: now,
                count: 0,
                told: false,
                last_text: 0,
                repeats: 0,
            };
        }
        w.count += 1;
        if d == w.last_text {
            w.repeats += 1;
        } else {
            w.last_text = d;
            w.repeats = 1;
        }
        if w.repeats > MAX_REPEATS {
            return Verdict::Spam("repeated_text");
        }
        if w.count > per_minute.max(1) {
            let tell = !w.told;
            w.told = true;
            return Verdict::Limited { tell };
        }
        Verdict::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_repeat_and_links() {
        let l = Limits::default();
        let t = Instant::now();
        for i in 0..3 {
            assert_eq!(l.check("sms", "+62", &format!("pesan {i}"), 3, true, t), Verdict::Allow);
        }
        assert_eq!(
            l.check("sms", "+62", "pesan 4", 3, true, t),
            Verdict::Limited { tell: true }
        );
        assert_eq!(
            l.check("sms", "+62", "pesan 5", 3, true, t),
            Verdict::Limited { tell: false }
        );
        // Another sender, or the next minute, is unaffected.
        assert_eq!(l.check("sms", "+63", "pesan", 3, true, t), Verdict::Allow);
        assert_eq!(l.check("sms", "+62", "pesan 6", 3, true, t + WINDOW), Verdict::Allow);

        let l = Limits::default();
        for _ in 0..MAX_REPEATS {
            assert_eq!(l.check("line", "U1", "BELI SEKARANG", 100, true, t), Verdict::Allow);
        }
        assert_eq!(
            l.check("line", "U1", "beli sekarang", 100, true, t),
            Verdict::Spam("repeated_text")
        );
        assert_eq!(
            l.check("line", "U2", "http://a http://b https://c www.d", 100, true, t),
            Verdict::Spam("too_many_links")
        );
        // "https://www.…" is one link, not two; e-mail skips the link rule.
        assert_eq!(
            l.check(
                "line",
                "U3",
                "lihat https://www.a.id dan https://www.b.id",
                100,
                true,
                t
            ),
            Verdict::Allow
        );
        assert_eq!(
            l.check("email", "a@b.id", "http://a http://b http://c http://d", 100, false, t),
            Verdict::Allow
        );
    }
}
