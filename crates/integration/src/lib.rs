//! Integration with the complaint systems Lapor connects to, without I/O:
//! what the server, the workers and the tests share about the wire formats.
//!
//! - [`webhook`]: Standard Webhooks signatures for the outbound webhooks
//!   (and for checking them, as receivers and our tests do);
//! - [`open311`]: the GeoReport v2 documents in JSON and XML, its errors and
//!   its query filters;
//! - [`client`]: API keys and scopes of integration clients;
//! - [`feed`]: the change records of the feed and the webhooks, and the
//!   feed's cursor;
//! - [`retry`]: the webhook retry schedule;
//! - [`lapor_v3`]: the national SP4N-LAPOR! v3 API's payloads and logs.

pub mod client;
pub mod feed;
pub mod lapor_v3;
pub mod open311;
pub mod retry;
pub mod webhook;
