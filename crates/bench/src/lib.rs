//! `bedside-bench`: benchmark shards (schema, manifest, validation, importers) and the statistics used to
//! report scores honestly. Pure Rust with no ML and no filesystem access, so it builds for
//! `wasm32-unknown-unknown` and the browser runs exactly the same checks as the CLI.

pub mod benchmark;
pub mod hash;
pub mod importers;
pub mod item;
pub mod manifest;
pub mod metrics;
pub mod probes;
pub mod problem;
pub mod shard;
pub mod stats;
pub mod task;
pub mod writer;

pub use benchmark::{validate, Benchmark, BenchmarkFiles, ValidateOptions};
pub use item::{Acceptance, Answer, Item};
pub use manifest::{Manifest, ShardEntry, SubjectNode, MANIFEST_FILE};
pub use problem::{Problem, Problems, Severity};
pub use task::Task;
