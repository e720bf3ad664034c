//! Webhook bodies from chat platforms and SMS gateways: every parser answers
//! with messages or an error, never a panic, and what it returns is usable
//! (a non-empty dedupe id and sender).
#![no_main]
use lapor_channels::{line, meta, sms, telegram, x};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut all = Vec::new();
    if let Ok(p) = telegram::parse(data) {
        all.extend(p.message);
    }
    all.extend(line::parse(data).unwrap_or_default());
    all.extend(meta::parse_whatsapp(data).unwrap_or_default());
    all.extend(meta::parse_messenger(data).unwrap_or_default());
    if let Ok(m) = sms::parse_generic(data) {
        all.push(m);
    }
    if let Ok(params) = sms::form_params(data) {
        if let Ok(m) = sms::parse_twilio(&params) {
            all.push(m);
        }
    }
    for m in &all {
        assert!(!m.platform_id.is_empty() || m.channel == lapor_domain::report::Channel::Telegram);
        let _ = m.text();
    }
    if let Ok(page) = x::parse_mentions(data) {
        for t in page.mentions {
            let _ = lapor_channels::forms::tweet(&t.text, "LAPOR1708");
        }
    }
});
