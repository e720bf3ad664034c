//! Integration with the complaint systems Lapor connects to, without I/O:
//! what the server, the workers and the tests share about the wire formats.
//!
//! - [`webhook`]: Standard Webhooks signatures for the outbound webhooks
//!   (and for checking them, as receivers and our tests do);
//! - [`open311`]: the GeoReport v2 documents in JSON and XML, its errors and
//!   its query filters.

pub mod open311;
pub mod webhook;
