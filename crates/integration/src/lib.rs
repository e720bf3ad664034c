//! Integration with the complaint systems Lapor connects to, without I/O:
//! what the server, the workers and the tests share about the wire formats.
//!
//! - [`webhook`]: Standard Webhooks signatures for the outbound webhooks
//!   (and for checking them, as receivers and our tests do).

pub mod webhook;
