//! `bedside validate`: check a benchmark and report every problem with file, line, field and fix.

use crate::files::read_benchmark;
use anyhow::Result;
use bedside_bench::problem::DEFAULT_PROBLEM_CAP;
use bedside_bench::{validate, Task, ValidateOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Benchmark folder, its manifest.json, or a single .jsonl shard.
    pub path: PathBuf,
    /// Task to assume when checking shards without a manifest.
    #[arg(long, default_value = "mcq", value_parser = parse_task)]
    pub task: Task,
    /// Report at most this many problems (all are still counted).
    #[arg(long, default_value_t = DEFAULT_PROBLEM_CAP)]
    pub max_problems: usize,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn parse_task(s: &str) -> Result<Task, String> {
    s.parse()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let files = read_benchmark(&a.path)?;
    let opts = ValidateOptions {
        max_problems: a.max_problems,
        task_without_manifest: a.task,
    };
    let (bench, problems, checked) = validate(&files, &opts);
    if a.json {
        let out = serde_json::json!({
            "path": a.path.display().to_string(),
            "valid": !problems.has_errors(),
            "checked": checked,
            "errors": problems.errors,
            "warnings": problems.warnings,
            "omitted": problems.omitted,
            "problems": problems.problems,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{problems}");
        let name = bench
            .as_ref()
            .map_or_else(|| a.path.display().to_string(), |b| b.manifest.name.clone());
        let verdict = if problems.has_errors() {
            "INVALID"
        } else {
            "ok"
        };
        println!(
            "{verdict}: {name}: {} item line(s) in {} shard(s), {} valid; {} error(s), {} warning(s)",
            checked.records, checked.shards, checked.valid_items, problems.errors, problems.warnings
        );
    }
    Ok(if problems.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
