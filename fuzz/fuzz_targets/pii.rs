//! Report text from citizens: detection never panics, findings are ordered,
//! disjoint and on character boundaries, and masking is idempotent.
#![no_main]
use lapor_domain::pii;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let found = pii::detect(data);
    let mut last_end = 0;
    for f in &found {
        assert!(f.start >= last_end && f.start < f.end && f.end <= data.len());
        assert!(data.is_char_boundary(f.start) && data.is_char_boundary(f.end));
        last_end = f.end;
    }
    let once = pii::mask(data);
    assert_eq!(pii::mask(&once), once);
    if found.is_empty() {
        assert_eq!(once, data);
    }
});
