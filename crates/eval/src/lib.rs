//! `bedside-eval`: the one evaluation engine the CLI and the web app both drive. Benchmark items ->
//! prompts (lm-eval-compatible templates, few-shot, chat) -> model scores (option log-likelihood with the
//! prompt shared across options, letter probabilities, or generation with answer extraction) -> per-item
//! records (a resumable JSONL) -> reports (text, JSON, self-contained HTML).

pub mod cards;
pub mod compare;
pub mod config;
pub mod engine;
pub mod extract;
pub mod fewshot;
pub mod html;
pub mod label_check;
pub mod lessons;
pub mod lm_eval_import;
pub mod merge;
pub mod paired;
pub mod prompt;
pub mod record;
pub mod report;
pub mod template;

pub use config::{Method, RunConfig};
pub use engine::{plan, run, Evaluator, Plan, PlannedItem, Progress, RunState};
pub use record::{parse_run, ItemRecord, RunFile, RunHeader, Slice, Status};
pub use template::Template;
