//! Open311 `GET requests` filters and `POST requests` attribute fields on
//! any input: never panic; what is accepted respects the spec's limits.
#![no_main]
use lapor_integration::open311;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Option<&str>, Option<&str>, Option<&str>, Option<&str>, Option<&str>, Vec<(String, String)>)| {
    let (ids, codes, start, end, status, form) = input;
    let now = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap();
    if let Ok(q) = open311::request_query(ids, codes, start, end, status, now) {
        assert!(q.start <= q.end);
        assert!(q.end - q.start <= chrono::Duration::days(open311::DEFAULT_DAYS));
        assert!(q.ids.len() <= open311::MAX_REQUESTS);
    }
    for (code, _) in open311::attributes(&form) {
        assert!(!code.is_empty());
    }
});
