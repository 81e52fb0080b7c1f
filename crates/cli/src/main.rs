//! `bedside`: the native command line on the same engine as the web app.

mod commands;
mod files;
mod table;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "bedside",
    version,
    about = "Evaluate small language models on medical benchmarks, on your own machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a benchmark folder (manifest.json + *.jsonl) or a single shard file and report every problem.
    Validate(commands::validate::Args),
    /// Convert MedQA, MedMCQA, PubMedQA, MMLU, MMLU-Pro, MMLU-Redux or any JSON/JSONL/CSV/Parquet file into a benchmark folder.
    Convert(commands::convert::Args),
    /// Describe a benchmark: counts, option counts, answer positions, lengths, duplicates.
    Stats(commands::stats::Args),
    /// Inspect model files.
    #[command(subcommand)]
    Model(commands::model::ModelCommand),
    /// Generate text with a model, printing prefill and decode speed.
    Generate(commands::model::GenerateArgs),
    /// Evaluate a model on a benchmark, writing per-item records to a resumable run file.
    Eval(commands::eval::EvalArgs),
    /// Report a run: accuracy with intervals, chance baseline, subjects, calibration, answer positions.
    Report(commands::eval::ReportArgs),
    /// Compare finished runs of one benchmark item by item: paired differences, McNemar (Holm), kappa, power, subjects, calibration, IRT, Bradley-Terry.
    Compare(commands::compare::Args),
    /// Turn lm-evaluation-harness --log_samples files into a run file (items matched by content), to compare with Bedside runs.
    ImportLmEval(commands::import_lm_eval::Args),
    /// Merge the run files of the slices of one evaluation.
    Merge(commands::eval::MergeArgs),
    /// Benchmarks against peers measured in the same run.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

fn main() -> ExitCode {
    // Piped into `head`: stop quietly when the reader goes away instead of failing to print.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(a) => commands::validate::run(a),
        Command::Convert(a) => commands::convert::run(a),
        Command::Stats(a) => commands::stats::run(a),
        Command::Model(commands::model::ModelCommand::Info { file, json }) => {
            commands::model::info(file, json)
        }
        Command::Generate(a) => commands::model::generate(a),
        Command::Eval(a) => commands::eval::eval(a),
        Command::Report(a) => commands::eval::report_cmd(a),
        Command::Compare(a) => commands::compare::run(a),
        Command::ImportLmEval(a) => commands::import_lm_eval::run(a),
        Command::Merge(a) => commands::eval::merge_cmd(a),
        Command::Bench(c) => commands::bench::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
