//! The pieces of the `lapor` binary that benchmarks and tests reuse:
//! configuration, reference-data import and the demo seed.

pub mod background;
pub mod backup;
pub mod bench_data;
pub mod config;
pub mod demo;
pub mod import;
pub mod integration;
pub mod outbox;
pub mod rollups;
