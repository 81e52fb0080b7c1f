//! Errors of the model runtime: each names the file (or tensor) and says what to do.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    /// The bytes are not a GGUF file we can read.
    Format { file: String, message: String },
    /// A tensor is missing, has the wrong shape, or an unsupported type.
    Tensor {
        file: String,
        tensor: String,
        message: String,
    },
    /// The model declares an architecture we do not implement.
    Unsupported { file: String, message: String },
    /// Tokenizer problems (missing vocabulary, mismatch with the embedding).
    Tokenizer { file: String, message: String },
    /// The device failed while running the model (e.g. the GPU was lost).
    Device { message: String },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Format { file, message } => write!(f, "{file}: {message}"),
            ModelError::Tensor {
                file,
                tensor,
                message,
            } => write!(f, "{file}: tensor `{tensor}`: {message}"),
            ModelError::Unsupported { file, message } => write!(f, "{file}: {message}"),
            ModelError::Tokenizer { file, message } => write!(f, "{file}: tokenizer: {message}"),
            ModelError::Device { message } => write!(f, "device error: {message}"),
        }
    }
}

impl std::error::Error for ModelError {}

pub type Result<T> = std::result::Result<T, ModelError>;
