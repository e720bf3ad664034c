//! Inbound e-mail: any bytes handed over by the MTA parse or are refused,
//! never panic; what parses has a usable sender and bounded fields, and the
//! subject helpers hold on whatever text it carries.
#![no_main]
use lapor_channels::email;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = email::parse(data) {
        assert!(m.from.contains('@') && m.from == m.from.to_lowercase());
        assert!(m.attachments.len() <= email::MAX_ATTACHMENTS);
        assert!(m.subject.chars().count() <= 250);
        let _ = email::tagged_report(&m.subject);
        let s = email::answer_subject(&m.subject, "7KQ4-M2XJ");
        // The tag may already be there in another case: kept, not doubled.
        assert!(s.to_ascii_uppercase().contains("[LAPOR 7KQ4-M2XJ]"));
        assert!(!s.chars().any(char::is_control), "a subject stays on its line");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = email::fresh_text(text);
        let _ = email::tagged_report(text);
    }
});
