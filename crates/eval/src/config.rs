//! What a run does: the method, template, shots, sampling. Everything that changes a result is in
//! [`RunConfig`] and its hash; how far a run got (`--limit`) and where it ran (backend) are not, so a run
//! can be extended or moved to another device and resumed.

use crate::fewshot::FewshotSampler;
use crate::template::Template;
pub use bedside_bench::probes::Probe;
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
    /// Probes applied to every item before prompting (e.g. `shuffle:3`, `choices_only`), stored as
    /// their canonical text.
    pub probes: Vec<Probe>,
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

/// Default seed of few-shot sampling, probes and sampling (CLI `--seed`, the app).
pub const DEFAULT_SEED: u64 = 1234;
/// Default nucleus of temperature sampling (CLI `--top-p`, the app).
pub const DEFAULT_TOP_P: f64 = 0.95;

/// What a user chooses for a run, before it is tied to a model and a benchmark: the one place the
/// defaults live. `bedside eval` and the browser worker both turn settings into a [`RunConfig`] with
/// [`RunSettings::build`], so the same choices give the same configuration hash everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunSettings {
    /// `auto` (from the manifest) or a template name.
    pub format: String,
    pub method: Method,
    pub shots: usize,
    /// `None`: `first` for the mmlu template (lm-eval's `first_n`), `random` otherwise.
    pub fewshot: Option<FewshotSampler>,
    pub chat: bool,
    pub cot: bool,
    pub samples: usize,
    pub temperature: f64,
    pub top_p: f64,
    /// `None`: [`default_max_tokens`].
    pub max_tokens: Option<usize>,
    pub seed: u64,
    pub split: String,
    pub probes: Vec<Probe>,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            format: "auto".into(),
            method: Method::Loglik,
            shots: 0,
            fewshot: None,
            chat: false,
            cot: false,
            samples: 1,
            temperature: 0.0,
            top_p: DEFAULT_TOP_P,
            max_tokens: None,
            seed: DEFAULT_SEED,
            split: "test".into(),
            probes: Vec::new(),
        }
    }
}

impl RunSettings {
    /// Check the settings that make no sense together, with the fix.
    pub fn check(&self) -> Result<(), String> {
        let multi: Vec<String> = self
            .probes
            .iter()
            .filter(|p| p.variants_per_item(2) > 1)
            .map(|p| p.to_string())
            .collect();
        if multi.len() > 1 {
            return Err(format!(
                "--probe {}: two probes that each make several variants of an item cannot be paired with the plain run; run them separately",
                multi.join(",")
            ));
        }
        if self.samples == 0 {
            return Err("--samples must be at least 1".into());
        }
        if self.samples > 1 && self.temperature <= 0.0 {
            return Err(format!("--samples {} with greedy decoding gives {} identical answers; set --temperature (e.g. 0.7)", self.samples, self.samples));
        }
        if self.method != Method::Generate && (self.cot || self.samples > 1) {
            return Err("--cot and --samples apply to --method generate".into());
        }
        Ok(())
    }

    /// The full configuration of a run of `model` on `bench` (whose content hash is `bench_hash`).
    pub fn build(
        &self,
        model: ModelRef,
        bench: &bedside_bench::Benchmark,
        bench_hash: &str,
    ) -> Result<RunConfig, String> {
        self.check()?;
        let template = Template::resolve(&self.format, bench)?;
        if template == Template::Cloze && self.method != Method::Loglik {
            return Err("--format cloze scores each option's own text (no options are shown, so there is no letter to read): use --method loglik".into());
        }
        Ok(RunConfig {
            model,
            benchmark: BenchmarkRef {
                name: bench.manifest.name.clone(),
                hash: bench_hash.to_string(),
                split: self.split.clone(),
            },
            template,
            method: self.method,
            shots: self.shots,
            fewshot: self
                .fewshot
                .unwrap_or(if template.shots_first_n_same_subject() {
                    FewshotSampler::FirstN
                } else {
                    FewshotSampler::Random
                }),
            chat: self.chat,
            cot: self.cot,
            samples: self.samples,
            temperature: self.temperature,
            top_p: self.top_p,
            max_tokens: self.max_tokens.unwrap_or(default_max_tokens(self.cot)),
            seed: self.seed,
            probes: self.probes.clone(),
        })
    }
}

/// Fields of two configurations that differ, as `field: old -> new` (why a resume was refused).
pub fn config_diff(old: &RunConfig, new: &RunConfig) -> Vec<String> {
    let (o, n) = (
        serde_json::to_value(old).unwrap_or_default(),
        serde_json::to_value(new).unwrap_or_default(),
    );
    let mut out = Vec::new();
    if let (Some(o), Some(n)) = (o.as_object(), n.as_object()) {
        for (k, v) in n {
            if o.get(k) != Some(v) {
                out.push(format!(
                    "{k}: {} -> {}",
                    o.get(k).map(|x| x.to_string()).unwrap_or("(none)".into()),
                    v
                ));
            }
        }
    }
    out
}
