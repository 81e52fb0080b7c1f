//! `bedside-model`: Bedside's language-model runtime on Burn: GGUF from bytes, tokenizers, architectures
//! (one file each under `models/`), KV cache.

pub mod chat;
pub mod device;
pub mod error;
pub mod gguf;
#[cfg(feature = "wgpu")]
pub mod gpu_blocks;
pub mod hf;
pub mod host;
pub mod layers;
pub mod models;
pub mod pool;
pub mod qmatrix;
pub use bedside_quant as quant;
pub mod registry;
pub mod sampling;
pub mod scoring;
pub mod tokenizer;

pub use error::{ModelError, Result};
pub use gguf::Gguf;
pub use layers::{KvCache, Precision};
pub use models::Model;
pub use qmatrix::Blob;
