//! Bytes from an SMSC: framing and PDU decoding never panic, and a decoded
//! PDU encodes back to a frame that decodes to the same PDU.
#![no_main]
use lapor_smpp::pdu::{Frame, Pdu};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Frame::Complete { len }) = Frame::check(data) {
        if let Ok(p) = Pdu::decode(&data[..len]) {
            if let Ok(bytes) = p.encode() {
                assert_eq!(Pdu::decode(&bytes).ok(), Some(p));
            }
        }
    }
    let _ = lapor_smpp::gsm::decode_text(data.first().copied().unwrap_or(0), data);
});
