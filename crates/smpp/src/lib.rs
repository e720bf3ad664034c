//! ESME side of SMPP 3.4, for binding Lapor's SMS short code 1708 to an operator SMSC.
//!
//! Supported:
//! - a transceiver bind (`bind_transceiver`) over plain TCP with tokio ([`esme::Esme`]);
//! - `submit_sm` with automatic encoding (GSM 03.38 default alphabet with its extension table,
//!   unpacked one septet per octet as data_coding 0x00, else UCS-2 as data_coding 0x08) and
//!   splitting into concatenated parts (8-bit reference UDH) ([`concat`](mod@concat), [`gsm`]);
//! - `deliver_sm` with reassembly of concatenated messages (UDH IEI 0x00 and 0x08, SAR TLVs or
//!   a whole `message_payload` TLV), and delivery receipts surfaced separately;
//! - `enquire_link` both ways, `unbind` both ways, `generic_nack`;
//! - a pure PDU codec that never panics on malformed input ([`pdu`]).
//!
//! Not supported: TLS, outbind, separate transmitter/receiver binds, `data_sm`, `submit_multi`,
//! `query_sm`/`cancel_sm`/`replace_sm`, GSM national language shift tables, packed 7-bit
//! user data, and windowing (the parts of one message are submitted one at a time; concurrent
//! `submit` calls do run in parallel). Unsupported requests from the SMSC get `generic_nack`
//! (ESME_RINVCMDID).

pub mod concat;
pub mod esme;
pub mod gsm;
pub mod pdu;

pub use concat::{Assembled, Part, Reassembler, ReassemblyLimits, SplitError, split};
pub use esme::{Backoff, Config, Disconnect, Error, Esme, Incoming, Receipt, run_with_reconnect};
pub use gsm::{Encoding, fits_gsm};
pub use pdu::{Body, DecodeError, EncodeError, Frame, Header, Pdu, ShortMessage, Tlv};

#[cfg(test)]
pub(crate) mod test_rng {
    /// Deterministic xorshift64 for the never-panics loops (no rand dependency).
    pub struct XorShift(pub u64);

    impl XorShift {
        pub fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }
}
