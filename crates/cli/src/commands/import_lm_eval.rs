//! `bedside import-lm-eval`: lm-evaluation-harness `--log_samples` files as a Bedside run file.

use super::eval::load_benchmark;
use anyhow::{Context, Result};
use bedside_eval::lm_eval_import::{import, LmEvalImport};
use bedside_eval::record::to_line;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The samples files lm-eval wrote with `--log_samples` (`samples_<task>_<date>.jsonl`; for MMLU,
    /// one per subject), all of one benchmark.
    #[arg(required = true)]
    pub samples: Vec<PathBuf>,
    /// The Bedside benchmark the samples are of (items are matched by their question and options).
    #[arg(long)]
    pub bench: PathBuf,
    /// The model's name in comparisons (the samples files do not carry it), e.g. "Llama-3.1-70B-Instruct".
    #[arg(long)]
    pub model: String,
    /// The split lm-eval evaluated.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Few-shot examples lm-eval used (`--num_fewshot`).
    #[arg(long, default_value_t = 0)]
    pub shots: usize,
    /// The run file to write (then `bedside compare` it with Bedside runs of the same benchmark).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let (bench, hash) = load_benchmark(&a.bench)?;
    let mut files = Vec::new();
    for p in &a.samples {
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        files.push((p.display().to_string(), bytes));
    }
    let opts = LmEvalImport {
        model: a.model.clone(),
        split: a.split.clone(),
        shots: a.shots,
    };
    let (header, records) = match import(&files, &bench, &hash, &opts) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: cannot import: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut out = to_line(&header);
    for r in &records {
        out.push_str(&to_line(r));
    }
    std::fs::write(&a.out, out).with_context(|| format!("writing {}", a.out.display()))?;
    let correct = records.iter().filter(|r| r.correct).count();
    eprintln!(
        "imported {} lm-eval samples of {} as {}: accuracy {:.1}% ({correct}/{}) -> {}",
        records.len(),
        bench.manifest.name,
        a.model,
        100.0 * correct as f64 / records.len().max(1) as f64,
        records.len(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
