pub mod convert;
pub mod stats;
pub mod validate;
