//! `bedside-model`: Bedside's language-model runtime on Burn.

pub mod error;
pub mod gguf;
pub mod quant;
pub mod tokenizer;

pub use error::{ModelError, Result};
pub use gguf::Gguf;
