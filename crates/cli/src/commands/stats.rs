//! `bedside stats`: describe a benchmark before any model sees it.

use crate::files::read_benchmark;
use crate::table::{pct, pvalue, Table};
use anyhow::{bail, Result};
use bedside_bench::stats::{benchmark_stats, Summary};
use bedside_bench::{validate, ValidateOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Benchmark folder.
    pub path: PathBuf,
    /// Print the statistics as JSON.
    #[arg(long)]
    pub json: bool,
    /// Only describe this split (test, dev, train, validation); all splits by default.
    #[arg(long)]
    pub split: Option<String>,
    /// How many duplicate groups / near-duplicate pairs to list.
    #[arg(long, default_value_t = 10)]
    pub show: usize,
}

fn summary(s: &Summary) -> String {
    format!(
        "min {:.0}  median {:.0}  mean {:.1}  max {:.0}",
        s.min, s.median, s.mean, s.max
    )
}

pub fn run(a: Args) -> Result<ExitCode> {
    let files = read_benchmark(&a.path)?;
    let (bench, problems, _) = validate(&files, &ValidateOptions::default());
    let Some(mut bench) = bench else {
        eprint!("{problems}");
        bail!(
            "{} is not a valid benchmark ({} error(s)); fix it first (see `bedside validate`)",
            a.path.display(),
            problems.errors
        );
    };
    if let Some(split) = &a.split {
        bench.shards.retain(|s| s.entry.split() == split);
        if bench.shards.is_empty() {
            bail!("{} has no `{split}` shards", a.path.display());
        }
    }
    let s = benchmark_stats(&bench);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} — task {}, {} items\n", s.name, s.task, s.items);
    let mut t = Table::new(&["shard", "split", ">items"]);
    for sh in &s.shards {
        t.row(vec![
            sh.file.clone(),
            sh.split.clone(),
            sh.items.to_string(),
        ]);
    }
    println!("Shards\n{t}");
    let mut t = Table::new(&["subject", ">items", ">share"]);
    for (name, n) in &s.subjects {
        t.row(vec![
            name.clone(),
            n.to_string(),
            pct(*n as f64 / s.items as f64),
        ]);
    }
    println!("Subjects\n{t}");
    if !s.option_counts.is_empty() {
        let mut t = Table::new(&[">options", ">items"]);
        for (k, n) in &s.option_counts {
            t.row(vec![k.to_string(), n.to_string()]);
        }
        println!("Option counts\n{t}");
    }
    if let Some(p) = &s.answer_positions {
        let mut t = Table::new(&["gold", ">items", ">share", ">expected"]);
        let n: usize = p.counts.iter().sum();
        for ((l, c), e) in p.letters.iter().zip(&p.counts).zip(&p.expected) {
            t.row(vec![
                l.to_string(),
                c.to_string(),
                pct(*c as f64 / n as f64),
                format!("{e:.1}"),
            ]);
        }
        println!("Answer positions (gold letter)\n{t}");
        let verdict = if p.p_value < 0.05 {
            "NOT uniform (p < 0.05): a model biased toward one letter can beat chance"
        } else {
            "consistent with uniform"
        };
        println!(
            "  chi-square {:.2}, df {}, p = {}: {verdict}",
            p.chi2,
            p.df,
            pvalue(p.p_value)
        );
        println!(
            "  always answering the most common position scores {}",
            pct(p.majority_position_accuracy)
        );
        if let Some(c) = s.chance_accuracy {
            println!("  uniform guessing scores {} on average\n", pct(c));
        }
    }
    println!("Lengths");
    println!("  question chars   {}", summary(&s.question_chars));
    println!("  question words   {}", summary(&s.question_words));
    if let Some(o) = &s.option_chars {
        println!("  option chars     {}", summary(o));
    }
    if let Some(c) = &s.context_words {
        println!("  context words    {}", summary(c));
    }
    if let Some(c) = &s.longest_option_cue {
        println!(
            "  the longest option is the gold answer in {} of {} items (chance {})",
            pct(c.rate),
            c.items,
            pct(c.expected)
        );
    }
    let d = &s.duplicates;
    println!("\nDuplicates");
    println!("  exact duplicate groups: {}", d.exact_groups.len());
    for g in d.exact_groups.iter().take(a.show) {
        println!("    {}", g.join(", "));
    }
    println!(
        "  near-duplicate pairs (word 3-gram Jaccard >= {}): {}",
        d.near_threshold,
        d.near_pairs.len()
    );
    for p in d.near_pairs.iter().take(a.show) {
        println!("    {} ~ {} ({:.2})", p.a, p.b, p.jaccard);
    }
    Ok(ExitCode::SUCCESS)
}
