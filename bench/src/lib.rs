//! `portcullis-bench`: a load tool for OAuth servers over loopback with keep-alive. It seeds
//! sessions through the public token endpoint, then drives one scenario at a fixed concurrency
//! for a set time and reports throughput, latency percentiles and errors. It can also start a
//! Portcullis binary itself (fresh data dir, generated realm) to measure start-up and memory, and
//! soak it with mixed load for minutes (`portcullis-bench soak`).

pub mod report;
pub mod scenario;
pub mod seed;
pub mod server;
pub mod soak;

pub use report::{Report, Run};
pub use scenario::{Scenario, Target};
