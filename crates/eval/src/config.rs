//! What a run does: the method, template, shots, sampling. Everything that changes a result is in
//! [`RunConfig`] and its hash; how far a run got (`--limit`) and where it ran (backend) are not, so a run
//! can be extended or moved to another device and resumed.

use crate::fewshot::FewshotSampler;
use crate::template::Template;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// How an answer is obtained from the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Sum of log-probabilities of each choice continuation given the prompt (lm-eval `multiple_choice`).
    Loglik,
    /// Next-token distribution over the choice letters after `Answer:` (MMLU/HELM style).
    Letter,
    /// Generate text and extract the answer.
    Generate,
}

impl Method {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "loglik" | "loglikelihood" => Ok(Method::Loglik),
            "letter" => Ok(Method::Letter),
            "generate" | "gen" => Ok(Method::Generate),
            _ => Err(format!(
                "unknown method `{s}`; expected loglik, letter or generate"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Loglik => "loglik",
            Method::Letter => "letter",
            Method::Generate => "generate",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The model a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRef {
    pub name: String,
    pub file: String,
    pub sha256: String,
}

impl ModelRef {
    /// The identity of a Hugging Face checkpoint (`sha256` of a run that used one): the hash of its
    /// config.json, tokenizer.json and safetensors shards by name, in that order. The CLI and the
    /// browser compute it the same way, so their runs on the same folder match.
    pub fn hf_sha256(config: &str, tokenizer: &str, shards: &[(String, Vec<u8>)]) -> String {
        let mut files = vec![
            ("config.json", config.as_bytes()),
            ("tokenizer.json", tokenizer.as_bytes()),
        ];
        files.extend(shards.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
        bedside_bench::hash::files_sha256(files)
    }
}

/// The benchmark a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkRef {
    pub name: String,
    /// SHA-256 over the manifest (which lists every shard's SHA-256), or over the shards without one.
    pub hash: String,
    pub split: String,
}

/// Every setting that changes the result of an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub model: ModelRef,
    pub benchmark: BenchmarkRef,
    pub template: Template,
    pub method: Method,
    pub shots: usize,
    pub fewshot: FewshotSampler,
    /// Render the model's own chat template around the prompt.
    pub chat: bool,
    /// Generate: add a chain-of-thought cue.
    pub cot: bool,
    /// Generate: number of samples per item; more than one votes by majority (self-consistency).
    pub samples: usize,
    /// Generate: 0 for greedy.
    pub temperature: f64,
    pub top_p: f64,
    pub max_tokens: usize,
    pub seed: u64,
    /// Probes applied to every item before prompting (e.g. `shuffle`, `choices_only`).
    pub probes: Vec<String>,
}

impl RunConfig {
    /// SHA-256 of the canonical JSON of the configuration.
    pub fn hash(&self) -> String {
        let json = serde_json::to_string(self).expect("config serialises");
        hex::encode(Sha256::digest(json.as_bytes()))
    }
}

/// Defaults for a method: generation needs room to reason with a chain-of-thought cue.
pub fn default_max_tokens(cot: bool) -> usize {
    if cot {
        384
    } else {
        24
    }
}
