//! The run file: a JSONL whose first line is a header (the full configuration and its hash) and whose
//! other lines are per-item records, one per completed item, appended as each item finishes. A run file
//! is read back tolerantly: a last line cut off mid-write (the process was killed) is dropped and
//! reported, so at most the item in flight is lost.

use crate::config::RunConfig;
use serde::{Deserialize, Serialize};

/// Format version of run files.
pub const RUN_FORMAT: u32 = 1;

/// `i/n`: this run evaluates the items whose position `k` in the evaluation order has `k % n == i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slice {
    pub index: usize,
    pub count: usize,
}

impl Slice {
    /// Parse `i/n` with `0 <= i < n` (the 0-based numbering of Slurm array and Kubernetes indexed jobs).
    pub fn parse(s: &str) -> Result<Slice, String> {
        let err = || {
            format!("`--slice {s}`: expected i/n with 0 <= i < n, e.g. 0/4 (0-based, as SLURM_ARRAY_TASK_ID)")
        };
        let (i, n) = s.split_once('/').ok_or_else(err)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| err())?,
            n.trim().parse::<usize>().map_err(|_| err())?,
        );
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Slice { index, count })
    }

    pub fn contains(&self, position: usize) -> bool {
        position % self.count == self.index
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    pub bedside_run: u32,
    pub bedside_version: String,
    pub config: RunConfig,
    pub config_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<Slice>,
    /// Items in the evaluation order of this run (the whole split, or this slice of it), before `--limit`.
    pub planned_items: usize,
    /// Where the run started (informational; not part of the hash).
    #[serde(default)]
    pub backend: String,
    /// Run files merged into this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
}

/// How the answer of an item was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Scored by log-likelihood or letter probabilities.
    Scored,
    /// Generated, and an answer was extracted.
    Extracted,
    /// Generated, and no answer could be extracted.
    Unextractable,
    /// The item could not be evaluated (message in `error`).
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    /// Position in the evaluation order (before slicing).
    pub index: usize,
    pub id: String,
    pub shard: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// First 16 hex digits of the SHA-256 of the exact context text.
    pub prompt_hash: String,
    /// Number of options (0 for numeric items).
    pub options: usize,
    /// Per option: summed log-probability of its continuation (loglik) or of its letter (letter).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scores: Vec<f64>,
    /// Per option: score divided by the choice's length in characters (lm-eval `acc_norm`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub norm_scores: Vec<f64>,
    /// Per option: probability (softmax of the scores, or vote shares under self-consistency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probs: Option<Vec<f64>>,
    pub pred: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pred_norm: Option<usize>,
    pub gold: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pred_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gold_value: Option<f64>,
    pub correct: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct_norm: Option<bool>,
    pub status: Status,
    /// The extraction rule that matched (generate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Generated text (each sample, under self-consistency).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    pub prompt_tokens: usize,
    /// Tokens run through the model for this item beyond the shared prompt (continuations or generation).
    pub extra_tokens: usize,
    pub latency_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The option texts as the model was shown them (after probes: shuffled, replaced), in the order
    /// `gold`, `pred`, `scores` and `probs` refer to. Empty in run files of Bedside before 0.2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presented: Vec<String>,
    /// The exact context text the model was given (few-shot examples and chat template included).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prompt: String,
    /// The benchmark's id of the item this variant was made from by a probe (`id` is then derived,
    /// e.g. `q12#p2`); absent when the record is of the item itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// `order[i]`: which option of the source item is shown at position `i` (absent: source order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<usize>,
    /// A sentence a probe added to the question (`bias`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected: Option<String>,
    /// The option the injected sentence favours, in the order shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested: Option<usize>,
    /// `mcq_multi`: the correct options (in the order shown); `gold` is then absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gold_set: Vec<usize>,
    /// `mcq_multi`: the options the model chose; `pred` is then absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pred_set: Vec<usize>,
}

impl ItemRecord {
    /// The benchmark's id of the item (the same for every variant a probe made of it).
    pub fn source(&self) -> &str {
        self.source_id.as_deref().unwrap_or(&self.id)
    }

    /// The variant's tag (`p2` of `q12#p2`), if a probe made several of the item.
    pub fn tag(&self) -> Option<&str> {
        self.source_id.as_ref()?;
        self.id.rsplit_once('#').map(|(_, t)| t)
    }

    /// Whether the item counts toward accuracy (unextractable and failed items do not).
    pub fn answered(&self) -> bool {
        matches!(self.status, Status::Scored | Status::Extracted)
    }
}

/// A run file read back.
#[derive(Debug, Clone)]
pub struct RunFile {
    pub header: RunHeader,
    pub records: Vec<ItemRecord>,
    /// Byte length of the well-formed part: a resumed run truncates the file to this before appending.
    pub valid_len: usize,
    /// Whether a cut-off last line was dropped.
    pub dropped_partial_line: bool,
}

/// Read a run file. Errors name the file and line.
pub fn parse_run(file: &str, bytes: &[u8]) -> Result<RunFile, String> {
    let mut header: Option<RunHeader> = None;
    let mut records = Vec::new();
    let mut pos = 0;
    let mut line_no = 0;
    let mut valid_len = 0;
    let mut dropped = false;
    while pos < bytes.len() {
        line_no += 1;
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| pos + i);
        let (line, next, complete) = match end {
            Some(e) => (&bytes[pos..e], e + 1, true),
            None => (&bytes[pos..], bytes.len(), false),
        };
        let text = std::str::from_utf8(line).map_err(|_| format!("{file}:{line_no}: not UTF-8"));
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            pos = next;
            if complete {
                valid_len = pos;
            }
            continue;
        }
        let parsed = text.and_then(|t| {
            if header.is_none() {
                serde_json::from_str::<RunHeader>(t)
                    .map(|h| {
                        header = Some(h);
                    })
                    .map_err(|e| format!("{file}:{line_no}: not a Bedside run header ({e}); is this a run file written by `bedside eval`?"))
            } else {
                serde_json::from_str::<ItemRecord>(t)
                    .map(|r| records.push(r))
                    .map_err(|e| format!("{file}:{line_no}: malformed item record ({e})"))
            }
        });
        match parsed {
            Ok(()) if complete => valid_len = next,
            Ok(()) => {
                // A complete JSON value without its newline: keep it, the writer always ends lines.
                valid_len = next;
            }
            Err(_) if !complete => {
                dropped = true;
                break;
            }
            Err(e) => return Err(e),
        }
        pos = next;
    }
    let header = header.ok_or_else(|| format!("{file}: empty run file (no header line)"))?;
    if header.bedside_run != RUN_FORMAT {
        return Err(format!(
            "{file}: run format {} is not supported by this Bedside (expects {RUN_FORMAT})",
            header.bedside_run
        ));
    }
    Ok(RunFile {
        header,
        records,
        valid_len,
        dropped_partial_line: dropped,
    })
}

/// One JSONL line with its newline.
pub fn to_line<T: Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string(v).expect("records serialise");
    s.push('\n');
    s
}
