//! Channels citizens write in on, without I/O: the chatbot shared by every
//! chat platform ([`conversation`]), the one-message forms of SMS and X
//! ([`forms`]), and per platform the signature check, the webhook parser and
//! the outbound API request ([`ApiRequest`]) the delivery worker sends.
//!
//! Everything here is a pure function of bytes, so the fuzz targets and the
//! benchmarks call it directly.

pub mod conversation;
pub mod email;
pub mod forms;
pub mod inbound;
pub mod line;
pub mod meta;
pub mod signature;
pub mod sms;
pub mod telegram;
pub mod x;

pub use inbound::{ApiRequest, Inbound, ParseError};
