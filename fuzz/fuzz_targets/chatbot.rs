//! The chatbot: any sequence of inputs, from any stored state, gives a turn
//! whose state survives its stored form, keeps its language, and always
//! answers (a reply or an action).
#![no_main]
use chrono::{Duration, TimeZone, Utc};
use lapor_channels::conversation::*;
use lapor_domain::Lang;
use libfuzzer_sys::fuzz_target;

struct Dir;
impl Directory for Dir {
    fn find_regions(&self, text: &str) -> Vec<Place> {
        (0..(text.len() % 8)).map(|i| Place { code: format!("32.{i:02}"), name: format!("Kota {i}") }).collect()
    }
    fn place_at(&self, lat: f64, _lon: f64) -> Option<Place> {
        (lat < 0.0).then(|| Place { code: "32.73".into(), name: "Kota Bandung".into() })
    }
}

fuzz_target!(|data: &[u8]| {
    let mut now = Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap();
    let mut conv = Conversation::new(Lang::En, now);
    for chunk in data.chunks(9) {
        let kind = chunk[0] % 6;
        let rest = String::from_utf8_lossy(&chunk[1..]).to_string();
        let input = match kind {
            0 => Input::Text(rest),
            1 => Input::Button(rest),
            2 => Input::Location { lat: f64::from(chunk.get(1).copied().unwrap_or(0)) - 100.0, lon: 106.8 },
            3 => Input::Photo(MediaRef { id: rest, mime: None, size: chunk.get(2).map(|b| u64::from(*b) << 20), url: None }),
            4 => Input::Unsupported(rest),
            _ => Input::Button(["report", "c:pengaduan", "skip", "send", "anon:yes", "cancel"][chunk.len() % 6].into()),
        };
        now += Duration::minutes(i64::from(chunk[0] % 40));
        let ctx = Ctx { now, caps: Capabilities { buttons: chunk[0] & 1 == 0 }, dir: &Dir, max_photo_bytes: 10 << 20 };
        let t = step(&conv, &input, &ctx);
        assert!(!t.replies.is_empty() || t.action.is_some());
        let stored = serde_json::to_string(&t.conversation).unwrap();
        let back: Conversation = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, t.conversation);
        assert!(matches!(back.lang, Lang::En | Lang::Id));
        conv = back;
    }
});
