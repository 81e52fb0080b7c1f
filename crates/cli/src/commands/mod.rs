pub mod bench;
pub mod compare;
pub mod convert;
pub mod eval;
pub mod import_lm_eval;
pub mod model;
pub mod stats;
pub mod validate;
