//! `bedside compare`: finished runs of one benchmark, item by item.

use super::eval::load_benchmark;
use anyhow::{Context, Result};
use bedside_eval::compare::{self, RunInput};
use bedside_eval::{html, parse_run};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Two or more run files of the same benchmark (written by `bedside eval`, merged by `bedside merge`,
    /// or saved from the app). Runs over different item sets are compared on the items they share.
    #[arg(required = true, num_args = 2..)]
    pub runs: Vec<PathBuf>,
    /// Print the comparison as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the comparison as one self-contained HTML page (no scripts, no network).
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Also write the per-item table (each run's answer, probability and outcome) as CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// The benchmark folder the runs were made on: its items' expert labels (MMLU-Redux's
    /// `meta.error_type`) are checked against the items IRT flags for negative discrimination.
    #[arg(long)]
    pub bench: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let mut files = Vec::new();
    for p in &a.runs {
        let name = p.display().to_string();
        let bytes = std::fs::read(p).with_context(|| format!("reading {name}"))?;
        let f = parse_run(&name, &bytes).map_err(anyhow::Error::msg)?;
        if f.dropped_partial_line {
            eprintln!("note: {name} ends with a cut-off record (the run was stopped mid-write); it is left out");
        }
        files.push((name, f));
    }
    let inputs: Vec<RunInput> = files
        .iter()
        .map(|(name, f)| RunInput {
            file: name.clone(),
            header: &f.header,
            records: &f.records,
        })
        .collect();
    let mut c =
        compare::compare_runs(&inputs).map_err(|e| anyhow::anyhow!("cannot compare: {e}"))?;
    if let Some(dir) = &a.bench {
        let (bench, hash) = load_benchmark(dir)?;
        compare::check_labels(&mut c, &bench, &hash)
            .map_err(|e| anyhow::anyhow!("--bench {}: {e}", dir.display()))?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&c)?);
    } else {
        print!("{}", compare::render_text(&c));
    }
    if let Some(h) = &a.html {
        std::fs::write(h, html::render_compare(&c))
            .with_context(|| format!("writing {}", h.display()))?;
        eprintln!("wrote {}", h.display());
    }
    if let Some(p) = &a.csv {
        std::fs::write(p, compare::items_csv(&c))
            .with_context(|| format!("writing {}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
