//! Scoring continuations: the log-probability of each continuation token given a prompt. The prompt is run
//! once; every continuation is scored from a fork of its KV cache (prefix sharing). The naive path (each
//! full sequence from scratch) is kept as the correctness oracle.

use crate::error::{ModelError, Result};
use crate::layers::KvCache;
use crate::models::Model;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// Rows of a `[rows, vocab]` logits tensor as vectors. The read is asynchronous so the same code runs
/// on WebGPU in the browser, where a GPU read can only be awaited.
/// A failed read (the GPU lost, say) is a [`ModelError::Device`], so the caller can fall back.
pub async fn rows_async<B: Backend>(t: Tensor<B, 2>) -> Result<Vec<Vec<f32>>> {
    let [r, v] = t.dims();
    if fail_next_read() {
        return Err(ModelError::Device {
            message: "simulated loss of the device".into(),
        });
    }
    let flat = t
        .into_data_async()
        .await
        .map_err(|e| ModelError::Device {
            message: format!("reading logits from the device failed: {e:?}"),
        })?
        .into_vec::<f32>()
        .map_err(|e| ModelError::Device {
            message: format!("logits are not f32: {e:?}"),
        })?;
    Ok((0..r).map(|i| flat[i * v..(i + 1) * v].to_vec()).collect())
}

/// [`rows_async`], blocking (native code, and CPU backends anywhere: their reads are ready at once).
pub fn rows<B: Backend>(t: Tensor<B, 2>) -> Vec<Vec<f32>> {
    block_on(rows_async(t)).expect("reading logits")
}

thread_local! {
    static FAIL_NEXT_READ: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Fault injection for tests of the fallback path: the next read on this thread fails as a lost device
/// would.
pub fn simulate_device_loss() {
    FAIL_NEXT_READ.with(|f| f.set(true));
}

fn fail_next_read() -> bool {
    FAIL_NEXT_READ.with(|f| f.replace(false))
}

/// Run a future to completion on this thread.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

/// log softmax(logits)[token], accumulated in f64.
pub fn log_prob(logits: &[f32], token: u32) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let lse = logits
        .iter()
        .map(|&x| (x as f64 - max).exp())
        .sum::<f64>()
        .ln()
        + max;
    logits[token as usize] as f64 - lse
}

/// A prompt run once: its KV cache and the logits at its last position. Continuations are scored from
/// forks of it; [`Model::step`] extends it one token at a time for decoding.
pub struct Prefix<B: Backend> {
    pub cache: KvCache<B>,
    /// Logits at the prompt's last position.
    pub last_logits: Vec<f32>,
}

impl<B: Backend> Model<B> {
    /// Run the prompt once.
    pub async fn prefix_async(&self, prompt: &[u32]) -> Result<Prefix<B>> {
        let mut cache = self.new_cache();
        let logits = rows_async(self.forward(prompt, &mut cache, true)).await?;
        Ok(Prefix {
            cache,
            last_logits: logits.into_iter().next().unwrap_or_default(),
        })
    }

    /// Append `token` to `state` and update its last-position logits (one decoding step).
    pub async fn step_async(&self, state: &mut Prefix<B>, token: u32) -> Result<()> {
        state.last_logits = rows_async(self.forward(&[token], &mut state.cache, true))
            .await?
            .remove(0);
        Ok(())
    }

    /// Per-token log-probabilities of `continuation` after `prefix`, from a fork of its cache.
    pub async fn score_continuation_async(
        &self,
        prefix: &Prefix<B>,
        continuation: &[u32],
    ) -> Result<Vec<f64>> {
        let Some((&first, rest)) = continuation.split_first() else {
            return Ok(Vec::new());
        };
        let mut out = vec![log_prob(&prefix.last_logits, first)];
        if !rest.is_empty() {
            let mut cache = prefix.cache.fork();
            let logits = rows_async(self.forward(
                &continuation[..continuation.len() - 1],
                &mut cache,
                false,
            ))
            .await?;
            out.extend(logits.iter().zip(rest).map(|(l, &t)| log_prob(l, t)));
        }
        Ok(out)
    }

    /// The oracle: run prompt + continuation from scratch and read the continuation's log-probabilities.
    pub async fn score_naive_async(
        &self,
        prompt: &[u32],
        continuation: &[u32],
    ) -> Result<Vec<f64>> {
        let all: Vec<u32> = prompt.iter().chain(continuation).copied().collect();
        let mut cache = self.new_cache();
        let logits = rows_async(self.forward(&all[..all.len() - 1], &mut cache, false)).await?;
        Ok(continuation
            .iter()
            .enumerate()
            .map(|(i, &t)| log_prob(&logits[prompt.len() - 1 + i], t))
            .collect())
    }

    /// [`Model::prefix_async`], blocking.
    pub fn prefix(&self, prompt: &[u32]) -> Prefix<B> {
        block_on(self.prefix_async(prompt)).expect("reading logits")
    }

    /// [`Model::step_async`], blocking.
    pub fn step(&self, state: &mut Prefix<B>, token: u32) {
        block_on(self.step_async(state, token)).expect("reading logits")
    }

    /// [`Model::score_continuation_async`], blocking.
    pub fn score_continuation(&self, prefix: &Prefix<B>, continuation: &[u32]) -> Vec<f64> {
        block_on(self.score_continuation_async(prefix, continuation)).expect("reading logits")
    }

    /// [`Model::score_naive_async`], blocking.
    pub fn score_naive(&self, prompt: &[u32], continuation: &[u32]) -> Vec<f64> {
        block_on(self.score_naive_async(prompt, continuation)).expect("reading logits")
    }

    /// Greedy decoding of up to `max_tokens` after `prompt`, stopping at the tokenizer's stop tokens.
    pub fn generate_greedy(&self, prompt: &[u32], max_tokens: usize) -> Vec<u32> {
        let mut state = self.prefix(prompt);
        let mut out = Vec::new();
        for _ in 0..max_tokens {
            let next = crate::sampling::argmax(&state.last_logits);
            out.push(next);
            if self.tokenizer.stop_tokens.contains(&next) {
                break;
            }
            self.step(&mut state, next);
        }
        out
    }
}
