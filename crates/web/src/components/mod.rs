pub mod progress;
pub mod queue;
