//! Search terms from arbitrary text: never panics, and every term is 2 or more
//! characters and at most 32 bytes, distinct, within the per-text caps, and
//! reproducible.
#![no_main]
use lapor_domain::search;
use libfuzzer_sys::fuzz_target;

fn check(terms: &[String], max: usize) {
    assert!(terms.len() <= max);
    for (i, t) in terms.iter().enumerate() {
        assert!(t.len() <= 32 && t.chars().count() >= 2, "bad term {t:?}");
        assert!(!terms[..i].contains(t), "duplicate term {t:?}");
    }
}

fuzz_target!(|data: &str| {
    let terms = search::terms(data);
    check(&terms, 256);
    assert_eq!(search::terms(data), terms);
    let query = search::query_terms(data);
    check(&query, 8);
    // A query is the first distinct terms of the same normalisation.
    assert!(terms.starts_with(&query));
    for word in data.split_whitespace() {
        let _ = search::stem(word);
    }
});
