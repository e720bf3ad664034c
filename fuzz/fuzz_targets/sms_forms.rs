//! SMS text: the one-message forms never panic, and a report body is never
//! shorter than the minimum or empty of words.
#![no_main]
use lapor_channels::forms::{self, SmsForm};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let SmsForm::Report { body } = forms::sms(data) {
        assert!(body.chars().count() >= 10);
        let title = forms::title_from(&body);
        assert!(title.chars().count() <= 80 || !title.contains(' '));
    }
    let _ = forms::tweet(data, "LAPOR1708");
});
