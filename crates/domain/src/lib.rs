//! The pure domain of Lapor: reports and their lifecycle, deadlines counted in
//! Indonesian working days, the institution tree, who may do what, and the
//! privacy rules. Nothing here does I/O or is async; adapters feed it values
//! and persist what it decides.

pub mod authz;
pub mod calendar;
pub mod error;
pub mod event;
pub mod geo;
pub mod ids;
pub mod indicators;
pub mod institution;
pub mod lifecycle;
pub mod map;
pub mod media;
pub mod pii;
pub mod recurring;
pub mod report;
pub mod rollup;
pub mod routing;
pub mod search;
pub mod sla;
pub mod template;
pub mod totp;

pub use error::{Error, ErrorCode, Lang};
