//! The architectures, one file each, behind one [`Model`] type used by the CLI, the engine and the web app.

pub mod gemma3;
pub mod llama;

use crate::error::{ModelError, Result};
use crate::gguf::Gguf;
use crate::layers::{KvCache, Loader, Placement, Precision, TokenBatch, Upload};
use crate::qmatrix::Blob;
use crate::tokenizer::Tokenizer;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

#[derive(Debug, Clone)]
pub enum Architecture<B: Backend> {
    Llama(llama::Llama<B>),
    Gemma3(gemma3::Gemma3<B>),
}

/// A loaded model: weights on a device plus its tokenizer and chat template.
#[derive(Debug, Clone)]
pub struct Model<B: Backend> {
    pub arch: Architecture<B>,
    pub tokenizer: Tokenizer,
    pub chat_template: Option<String>,
    pub name: String,
}

impl<B: Backend> Model<B> {
    /// Load a model from the bytes of a GGUF file, dequantising weights to f32 on `device` (the oracle,
    /// and the GPU path).
    pub fn from_gguf(file: &str, bytes: &[u8], device: &B::Device) -> Result<Self> {
        Self::load_gguf(file, bytes, Placement::Dense, device)
    }

    /// Load a model from a shared GGUF buffer with its quantised matrices put on the device in their
    /// blocks by `upload` (the GPU path: `crate::gpu_blocks::upload` for wgpu); float tensors go dense.
    /// Products are exact up to the kernel's summation order.
    pub fn from_gguf_blob_on_device(
        file: &str,
        blob: Blob,
        upload: Upload<B>,
        device: &B::Device,
    ) -> Result<Self> {
        let bytes: &[u8] = (*blob).as_ref();
        Self::load_gguf(
            file,
            bytes,
            Placement::Device {
                blob: &blob,
                upload,
            },
            device,
        )
    }

    /// Load a model from a shared GGUF buffer at `precision`. Quantised, the weight matrices stay in the
    /// buffer (no copy): the model needs about the file's size plus the KV cache. Only for CPU backends.
    pub fn from_gguf_blob(
        file: &str,
        blob: Blob,
        precision: Precision,
        device: &B::Device,
    ) -> Result<Self> {
        let bytes: &[u8] = (*blob).as_ref();
        Self::load_gguf(file, bytes, Placement::host(&blob, precision), device)
    }

    /// Load a Hugging Face checkpoint (`config.json` + safetensors + `tokenizer.json`) at `precision`;
    /// `name` (its folder) names it in errors. See [`crate::hf`].
    pub fn from_hf(
        name: &str,
        files: crate::hf::HfFiles,
        precision: Precision,
        device: &B::Device,
    ) -> Result<Self> {
        let ck = crate::hf::HfCheckpoint::read(name, files)?;
        Self::from_hf_checkpoint(ck.gguf, std::sync::Arc::new(ck.bytes), precision, device)
    }

    /// Load a checkpoint already read by [`crate::hf::HfCheckpoint::read`] (its GGUF view and its
    /// safetensors bytes, shared): the browser keeps both to rebuild the model on another backend.
    pub fn from_hf_checkpoint(
        view: Gguf,
        blob: Blob,
        precision: Precision,
        device: &B::Device,
    ) -> Result<Self> {
        let bytes: &[u8] = (*blob).as_ref();
        let mut m = Self::load_parsed(view, bytes, Placement::host(&blob, precision), device)?;
        // transformers keeps Q/K rows in rotate-half order (GGUF permutes them for interleaved RoPE).
        if let Architecture::Llama(l) = &mut m.arch {
            l.config.rope_style = crate::layers::RopeStyle::Half;
        }
        Ok(m)
    }

    fn load_gguf(
        file: &str,
        bytes: &[u8],
        placement: Placement<'_, B>,
        device: &B::Device,
    ) -> Result<Self> {
        Self::load_parsed(Gguf::parse(file, bytes)?, bytes, placement, device)
    }

    fn load_parsed(
        g: Gguf,
        bytes: &[u8],
        placement: Placement<'_, B>,
        device: &B::Device,
    ) -> Result<Self> {
        let file = g.file.clone();
        let file = file.as_str();
        let tokenizer = Tokenizer::from_gguf(&g)?;
        let loader = Loader::<B> {
            gguf: &g,
            bytes,
            placement,
            device,
        };
        let arch_name = g.architecture().unwrap_or("").to_string();
        let (arch, vocab) = match arch_name.as_str() {
            "llama" => {
                let c = llama::LlamaConfig::from_gguf(&g)?;
                let v = c.vocab;
                (Architecture::Llama(llama::Llama::load(c, &loader)?), v)
            }
            "gemma3" => {
                let c = gemma3::Gemma3Config::from_gguf(&g)?;
                let v = c.vocab;
                (Architecture::Gemma3(gemma3::Gemma3::load(c, &loader)?), v)
            }
            other => {
                return Err(ModelError::Unsupported {
                    file: file.into(),
                    message: format!(
                        "architecture `{other}` is not supported (supported: llama, gemma3)"
                    ),
                })
            }
        };
        if tokenizer.vocab_size() > vocab {
            return Err(ModelError::Tokenizer {
                file: file.into(),
                message: format!("the vocabulary has {} tokens but the embedding only {vocab} rows: tokenizer and weights do not match", tokenizer.vocab_size()),
            });
        }
        let chat_template = g
            .get("tokenizer.chat_template")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let name = g
            .get("general.name")
            .and_then(|v| v.as_str())
            .unwrap_or(file)
            .to_string();
        Ok(Model {
            arch,
            tokenizer,
            chat_template,
            name,
        })
    }

    pub fn layers(&self) -> usize {
        match &self.arch {
            Architecture::Llama(m) => m.config.layers,
            Architecture::Gemma3(m) => m.config.layers,
        }
    }

    pub fn new_cache(&self) -> KvCache<B> {
        KvCache::new(self.layers())
    }

    /// Logits `[seq, vocab]` of the positions of `ids`, continuing from `cache` (which is extended), or
    /// `[1, vocab]` for the last position when `last_only`.
    pub fn forward(&self, ids: &[u32], cache: &mut KvCache<B>, last_only: bool) -> Tensor<B, 2> {
        self.forward_tokens(&TokenBatch::one(ids), cache, last_only)
    }

    fn forward_tokens(
        &self,
        t: &TokenBatch,
        cache: &mut KvCache<B>,
        last_only: bool,
    ) -> Tensor<B, 2> {
        match &self.arch {
            Architecture::Llama(m) => m.forward(t, cache, last_only),
            Architecture::Gemma3(m) => m.forward(t, cache, last_only),
        }
    }

    /// Run several sequences from scratch in one batch (right-padded, padding masked out): logits
    /// `[len_i, vocab]` for every position of each.
    pub fn forward_batch(&self, seqs: &[&[u32]]) -> Vec<Tensor<B, 2>> {
        let t = TokenBatch::padded(seqs);
        if t.batch == 0 || t.seq == 0 {
            return seqs
                .iter()
                .map(|_| Tensor::empty([0, self.vocab()], &self.device()))
                .collect();
        }
        let logits = self.forward_tokens(&t, &mut self.new_cache(), false);
        let vocab = logits.dims()[1];
        let logits = logits.reshape([t.batch, t.seq, vocab]);
        t.lens
            .iter()
            .enumerate()
            .map(|(i, &len)| {
                if len == 0 {
                    return Tensor::empty([0, vocab], &self.device());
                }
                logits
                    .clone()
                    .narrow(0, i, 1)
                    .narrow(1, 0, len)
                    .reshape([len, vocab])
            })
            .collect()
    }

    pub fn vocab(&self) -> usize {
        match &self.arch {
            Architecture::Llama(m) => m.config.vocab,
            Architecture::Gemma3(m) => m.config.vocab,
        }
    }

    fn device(&self) -> B::Device {
        match &self.arch {
            Architecture::Llama(m) => m.device(),
            Architecture::Gemma3(m) => m.device(),
        }
    }
}
