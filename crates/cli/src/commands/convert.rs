//! `bedside convert`: turn the files people have into a validated benchmark folder.

use super::validate::parse_task;
use crate::files::{read_benchmark, read_inputs};
use anyhow::{bail, Context, Result};
use bedside_bench::importers::{
    import, inspect, AnswerFormat, FieldMap, Format, IdTemplate, ImportOptions, RecordPath,
};
use bedside_bench::writer::{build_benchmark, sample_in_order, DEFAULT_SHARD_SIZE};
use bedside_bench::{validate, Task, ValidateOptions, MANIFEST_FILE};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Source format: medqa, medmcqa, pubmedqa, mmlu-csv, mmlu-pro, mmlu-redux, or a generic one: json
    /// (JSON Lines or one JSON document), jsonl, csv, parquet. Default: generic, by file name.
    #[arg(long = "from", value_parser = |s: &str| s.parse::<Format>())]
    pub format: Option<Format>,
    /// Input files or folders (folders are searched for .json/.jsonl/.csv/.tsv/.parquet files).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Show each file's shape, record path, fields and a suggested command, and write nothing.
    #[arg(long)]
    pub inspect: bool,
    /// Output benchmark folder (created; must be empty unless --force).
    #[arg(long, required_unless_present = "inspect")]
    pub out: Option<PathBuf>,
    /// Items per shard file.
    #[arg(long, default_value_t = DEFAULT_SHARD_SIZE)]
    pub shard_size: usize,
    /// Keep only the first N items of each split.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Keep a seeded random sample of N items of each split (in their original order).
    #[arg(long, conflicts_with = "limit")]
    pub sample: Option<usize>,
    /// Seed for --sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Put all items in this split (test, dev, train, validation) instead of guessing from file names.
    #[arg(long)]
    pub split: Option<String>,
    /// Benchmark name (default: the format's dataset name, or the first file's name).
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub version: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// SPDX license id or text (known datasets default to theirs).
    #[arg(long)]
    pub license: Option<String>,
    #[arg(long)]
    pub citation: Option<String>,
    /// URL or repository the items come from.
    #[arg(long)]
    pub source: Option<String>,
    /// BCP 47 language tag.
    #[arg(long)]
    pub language: Option<String>,
    /// Copy this license file into the benchmark folder as LICENSE.
    #[arg(long)]
    pub license_file: Option<PathBuf>,
    /// For generic formats: task kind (mcq, yes_no_maybe, numeric, mcq_multi). Default: mcq, or mcq_multi
    /// when answers list several options.
    #[arg(long, value_parser = parse_task)]
    pub task: Option<Task>,
    /// For generic formats: FIELD=PATH (repeatable). Fields: id, question, options, answer, context, subject,
    /// explanation, tolerance, low, high. PATH is a field (`stem`), a nested one (`meta.src`), a list
    /// projection (`choices[].text`, or `choices[n].text` ordered by `n`), an enclosing object's field
    /// (`..topic`), a key bound by --records (`section`), or for options several columns (`opa,opb,opc`).
    #[arg(long = "map", value_name = "FIELD=PATH")]
    pub map: Vec<String>,
    /// For generic formats: how the answer is written: auto, letter, index0, index1, text, id (an option's id).
    #[arg(long, default_value = "auto", value_parser = |s: &str| s.parse::<AnswerFormat>())]
    pub answer_format: AnswerFormat,
    /// For JSON documents: where the records are, e.g. `sections.{section}.questions` (`*` for every key;
    /// `{name}` also keeps the key as a field). Detected when not given.
    #[arg(long, value_parser = |s: &str| RecordPath::parse(s))]
    pub records: Option<RecordPath>,
    /// Ids from a template over fields, e.g. '{section}-{n}' (default: the mapped id, else <file>-<record>).
    #[arg(long, value_parser = |s: &str| IdTemplate::parse(s))]
    pub id: Option<IdTemplate>,
    /// For medmcqa: whether `cop` counts from 0 or 1 (detected when not given).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub cop_base: Option<u8>,
    /// Overwrite a non-empty output folder.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    if !a.inspect {
        if let Some(out) = &a.out {
            if out.exists() && std::fs::read_dir(out)?.next().is_some() && !a.force {
                bail!(
                    "{} exists and is not empty; choose another --out or pass --force",
                    out.display()
                );
            }
        }
    }
    let inputs = read_inputs(&a.inputs)?;
    if a.inspect {
        for input in &inputs {
            let i = inspect(input, a.records.as_ref()).map_err(anyhow::Error::msg)?;
            print!("{}", i.render());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let out = a
        .out
        .clone()
        .expect("clap requires --out without --inspect");
    let format = a
        .format
        .unwrap_or_else(|| Format::guess(&inputs[0].name, &inputs[0].bytes));
    if !format.is_generic() && (a.records.is_some() || a.id.is_some()) {
        bail!("--records and --id apply to the generic formats (json, jsonl, csv, parquet), not --from {format}");
    }
    let opts = ImportOptions {
        split: a.split.clone(),
        map: FieldMap::parse(&a.map, a.answer_format).map_err(anyhow::Error::msg)?,
        task: a.task,
        cop_base: a.cop_base,
        records: a.records.clone(),
        id: a.id.clone(),
    };
    let mut imported = import(format, &inputs, &opts).map_err(anyhow::Error::msg)?;
    if let Some(refusal) = imported.refusal(&inputs) {
        for n in &imported.notes {
            eprintln!("note: {n}");
        }
        eprintln!("error: {refusal}");
        return Ok(ExitCode::from(1));
    }
    let info = &mut imported.info;
    for (field, value) in [
        (&mut info.name, &a.name),
        (&mut info.version, &a.version),
        (&mut info.description, &a.description),
        (&mut info.license, &a.license),
        (&mut info.citation, &a.citation),
        (&mut info.source, &a.source),
        (&mut info.language, &a.language),
    ] {
        if let Some(v) = value {
            *field = v.clone();
        }
    }
    let converted: usize = imported.splits.iter().map(|(_, v)| v.len()).sum();
    for (_, items) in &mut imported.splits {
        if let Some(n) = a.limit {
            items.truncate(n);
        }
        if let Some(n) = a.sample {
            *items = sample_in_order(items, n, a.seed);
        }
    }
    let splits: Vec<(&str, Vec<_>)> = imported
        .splits
        .iter()
        .map(|(s, v)| (s.as_str(), v.clone()))
        .collect();
    let built =
        build_benchmark(&imported.info, &splits, a.shard_size).map_err(anyhow::Error::msg)?;

    if a.force && out.exists() {
        for entry in std::fs::read_dir(&out)? {
            let p = entry?.path();
            if p.is_file()
                && (p.extension().is_some_and(|e| e == "jsonl")
                    || p.file_name().is_some_and(|n| n == MANIFEST_FILE))
            {
                std::fs::remove_file(&p)?;
            }
        }
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    for (name, bytes) in &built.shards {
        std::fs::write(out.join(name), bytes).with_context(|| format!("writing {name}"))?;
    }
    std::fs::write(out.join(MANIFEST_FILE), built.manifest.to_json_pretty())?;
    if let Some(lf) = &a.license_file {
        std::fs::copy(lf, out.join("LICENSE"))
            .with_context(|| format!("copying {}", lf.display()))?;
    }

    // Read back what was written and validate it, exactly as a user's `bedside validate` would.
    let (_, problems, checked) = validate(&read_benchmark(&out)?, &ValidateOptions::default());

    let per_split: Vec<String> = imported
        .splits
        .iter()
        .map(|(s, v)| format!("{s} {}", v.len()))
        .collect();
    let kept: usize = imported.splits.iter().map(|(_, v)| v.len()).sum();
    let skipped = imported.skipped.total();
    let reasons: Vec<String> = imported
        .skipped
        .by_reason
        .iter()
        .map(|(r, n)| format!("{n} × {r}"))
        .collect();
    println!(
        "converted {converted}, skipped {skipped}{}",
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join("; "))
        }
    );
    if kept != converted {
        println!(
            "  kept {kept} ({})",
            if a.limit.is_some() {
                "--limit"
            } else {
                "--sample"
            }
        );
    }
    if !per_split.is_empty() {
        println!("  splits: {}", per_split.join(", "));
    }
    for e in &imported.skipped.examples {
        println!("  skipped {e}");
    }
    for n in &imported.notes {
        println!("  note: {n}");
    }
    println!(
        "wrote {} ({} shard(s) of up to {} items, task {}, license {})",
        out.display(),
        built.shards.len(),
        a.shard_size,
        built.manifest.task,
        built.manifest.license
    );
    if built.manifest.license == "NOASSERTION" {
        println!(
            "  warning: no license given; pass --license (SPDX id) before sharing this benchmark"
        );
    }
    print!("{problems}");
    println!(
        "validate: {} item(s), {} error(s), {} warning(s)",
        checked.records, problems.errors, problems.warnings
    );
    Ok(if problems.has_errors() || kept == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
