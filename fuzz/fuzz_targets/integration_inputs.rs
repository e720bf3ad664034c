//! What integration reads from outside: the changes feed's cursor, API key
//! shapes and scope lists from clients, and the national SP4N-LAPOR! API's
//! follow-up pages (log dates, status data). Never panic; what is accepted
//! round-trips.
#![no_main]
use lapor_integration::{client, feed, lapor_v3};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(c) = feed::Cursor::decode(text) {
            assert_eq!(feed::Cursor::decode(&c.encode()), Some(c));
        }
        if let Some(id) = client::key_client(text) {
            assert!(!id.is_empty() && text.contains(id));
        }
        if let Ok(scopes) = client::parse_scopes(text) {
            assert_eq!(client::parse_scopes(&client::format_scopes(&scopes)), Ok(scopes));
        }
        if let Some(t) = lapor_v3::log_time(text) {
            assert_eq!(lapor_v3::log_time(&lapor_v3::format_log_time(t)), Some(t));
        }
        let _ = lapor_v3::name_key(text);
    }
    if let Ok(page) = serde_json::from_slice::<lapor_v3::Envelope<lapor_v3::Page<lapor_v3::FollowUpLog>>>(data) {
        for log in &page.results.data {
            let _ = log.statuses();
            assert!(log.note().starts_with("[SP4N-LAPOR! "));
        }
    }
});
