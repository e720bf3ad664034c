//! Uploaded attachments: cleaning arbitrary bytes never panics, and a cleaned
//! file is never longer than the upload and still sniffs as the same type
//! (so stripping cannot turn a photo into something else).
#![no_main]
use lapor_domain::media;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cleaned) = media::clean(data) {
        assert!(cleaned.bytes.len() <= data.len());
        assert_eq!(media::sniff(&cleaned.bytes), Some(cleaned.media_type));
        assert_eq!(media::sniff(data), Some(cleaned.media_type));
        // Cleaning is idempotent on its own output.
        let again = media::clean(&cleaned.bytes).expect("cleaned output must clean again");
        assert_eq!(again.bytes, cleaned.bytes);
    }
});
