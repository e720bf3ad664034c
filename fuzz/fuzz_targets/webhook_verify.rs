//! Standard Webhooks verification on any headers and body: never panics,
//! and accepts only what the secret signed.
#![no_main]
use lapor_integration::webhook::{self, Secret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str, &[u8])| {
    let (id, ts, sig, body) = input;
    let secret = Secret::from_random([9; 32]);
    let now = 1_800_000_000;
    if webhook::verify(std::slice::from_ref(&secret), id, ts, sig, body, now).is_ok() {
        // Only a real signature of exactly these bytes can pass.
        let t: i64 = ts.trim().parse().unwrap();
        assert!(sig.contains(&webhook::sign(&secret, id, t, body)));
    }
    let _ = Secret::parse(sig);
});
