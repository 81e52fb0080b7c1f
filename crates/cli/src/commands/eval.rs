//! `bedside eval`, `bedside report` and `bedside merge`: the evaluation engine on the command line.

use crate::commands::model::{load_model, peak_rss, precision_for, read_model};
use crate::files::read_benchmark;
use anyhow::{bail, Context, Result};
use bedside_bench::{validate, Benchmark, ValidateOptions};
use bedside_eval::config::{
    config_diff, ModelRef, Probe, RunSettings, DEFAULT_SEED, DEFAULT_TOP_P,
};
use bedside_eval::fewshot::FewshotSampler;
use bedside_eval::record::{to_line, RUN_FORMAT};
use bedside_eval::{
    html, merge, paired, parse_run, plan, report, run, Evaluator, Method, Progress, RunHeader,
    Slice, Template,
};
use bedside_model::layers::Upload;
use bedside_model::registry;
use burn::backend::{Flex, NdArray};
use burn::tensor::backend::Backend;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The model: a .gguf file, a Hugging Face folder (config.json + tokenizer.json + *.safetensors),
    /// or a registry id (e.g. smollm2-135m-instruct) found under models/.
    #[arg(long)]
    pub model: PathBuf,
    /// The benchmark folder (manifest.json + shards).
    #[arg(long)]
    pub bench: PathBuf,
    /// Prompt template: medqa, medmcqa, pubmedqa, mmlu (lm-eval-harness's tasks, byte for byte), generic,
    /// cloze (option texts scored, no letters; loglik only), or auto (from the benchmark's manifest).
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// loglik (option log-likelihood, lm-eval's multiple_choice), letter (next-token probability of each
    /// option letter), or generate (generate, then extract the answer).
    #[arg(long, default_value = "loglik", value_parser = Method::parse)]
    pub method: Method,
    /// Few-shot examples per item, from the benchmark's dev/validation/train split.
    #[arg(long, default_value_t = 0)]
    pub shots: usize,
    /// How examples are chosen: random (seeded), first (same subject first; MMLU's default) or nearest
    /// (BM25 most similar questions). Default: first for the mmlu template, random otherwise.
    #[arg(long, value_parser = FewshotSampler::parse)]
    pub fewshot: Option<FewshotSampler>,
    /// Render the prompt with the model's own chat template.
    #[arg(long)]
    pub chat: bool,
    /// With --method generate: add a chain-of-thought cue ("Let's think step by step.").
    #[arg(long)]
    pub cot: bool,
    /// With --method generate: samples per item, majority vote (self-consistency); needs --temperature > 0.
    #[arg(long, default_value_t = 1)]
    pub samples: usize,
    /// With --method generate: sampling temperature (0 = greedy).
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    #[arg(long, default_value_t = DEFAULT_TOP_P)]
    pub top_p: f64,
    /// With --method generate: most tokens per answer (default 24, or 384 with --cot).
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// Seed for few-shot sampling, probes and sampling.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Split to evaluate.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Evaluate only the first N items (of the slice). A later run with a larger N extends the same file.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Evaluate slice i of n (0-based: items at positions k with k % n == i), e.g. --slice $SLURM_ARRAY_TASK_ID/8.
    #[arg(long, value_parser = Slice::parse)]
    pub slice: Option<Slice>,
    /// Probes applied to every item (repeatable, comma-separated): shuffle[:k], circular, position,
    /// choices_only, nota:gold|distractor, bias:<name>|all, truncate[:p]. See docs/probes.md; compare
    /// with the plain run using `bedside report --baseline plain.jsonl probed.jsonl`.
    #[arg(long, value_delimiter = ',', value_parser = Probe::parse)]
    pub probe: Vec<Probe>,
    /// The run file (JSONL). If it exists with the same configuration, the run resumes where it stopped.
    #[arg(long)]
    pub out: PathBuf,
    /// Score each option from scratch instead of from the shared prompt (slower; the correctness oracle).
    #[arg(long, hide = true)]
    pub no_prefix_sharing: bool,
    /// cpu (Burn flex), ndarray, or wgpu (GPU; falls back to cpu without an adapter).
    #[arg(long, default_value = "cpu")]
    pub backend: String,
    /// Weights in memory: auto (q8-activations on the CPU, quantized on the GPU: the file's blocks,
    /// dequantised inside the kernel), q8-activations (CPU only), quantized, or f32.
    #[arg(long, default_value = "auto")]
    pub precision: String,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    /// (internal, for `bedside bench eval`) print session items, seconds and peak RSS as JSON on stdout.
    #[arg(long, hide = true)]
    pub stats_json: bool,
}

/// A model path, or a registry id resolved under `models/`.
pub fn resolve_model(p: &Path) -> Result<PathBuf> {
    if p.exists() {
        return Ok(p.to_path_buf());
    }
    if let Some(e) = registry::by_id(&p.display().to_string()) {
        let f = Path::new("models").join(e.file);
        if f.exists() {
            return Ok(f);
        }
        bail!(
            "model `{}` is in the registry but {} is missing; run `bash scripts/get_models.sh`",
            e.id,
            f.display()
        );
    }
    bail!(
        "{} does not exist (give a .gguf file or a registry id: {})",
        p.display(),
        registry::REGISTRY
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub fn load_benchmark(path: &Path) -> Result<(Benchmark, String)> {
    let files = read_benchmark(path)?;
    let (bench, problems, _) = validate(&files, &ValidateOptions::default());
    let Some(bench) = bench else {
        eprint!("{problems}");
        bail!("{} is not a valid benchmark ({} error(s) above); fix them, or check with `bedside validate {}`", path.display(), problems.errors, path.display());
    };
    let hash = files.content_hash();
    Ok((bench, hash))
}

impl EvalArgs {
    /// The run settings these arguments choose (the engine's one builder turns them into the
    /// configuration, as the browser does).
    pub fn settings(&self) -> RunSettings {
        RunSettings {
            format: self.format.clone(),
            method: self.method,
            shots: self.shots,
            fewshot: self.fewshot,
            chat: self.chat,
            cot: self.cot,
            samples: self.samples,
            temperature: self.temperature,
            top_p: self.top_p,
            max_tokens: self.max_tokens,
            seed: self.seed,
            split: self.split.clone(),
            probes: self.probe.clone(),
        }
    }
}

pub fn eval(a: EvalArgs) -> Result<ExitCode> {
    match a.backend.as_str() {
        "cpu" | "flex" => eval_on::<Flex<f32>>(a, Default::default(), None, "cpu (burn-flex)"),
        "ndarray" => eval_on::<NdArray<f32>>(a, Default::default(), None, "cpu (burn-ndarray)"),
        #[cfg(feature = "wgpu")]
        "wgpu" => match bedside_model::device::native_wgpu_device() {
            Some(device) => eval_on::<burn::backend::Wgpu>(
                a,
                device,
                Some(bedside_model::gpu_blocks::upload),
                "gpu (burn-wgpu)",
            ),
            None => {
                eprintln!("backend: no GPU adapter found; falling back to the CPU (burn-flex)");
                eval_on::<Flex<f32>>(a, Default::default(), None, "cpu (burn-flex)")
            }
        },
        #[cfg(not(feature = "wgpu"))]
        "wgpu" => bail!("this bedside was built without GPU support; rebuild with `--features wgpu`, or use --backend cpu"),
        other => bail!("unknown backend `{other}`; use cpu, ndarray or wgpu"),
    }
}

fn eval_on<B: Backend>(
    a: EvalArgs,
    device: B::Device,
    upload: Option<Upload<B>>,
    backend: &str,
) -> Result<ExitCode> {
    let (bench, bench_hash) = load_benchmark(&a.bench)?;
    let model_path = resolve_model(&a.model)?;
    let settings = a.settings();
    settings.check().map_err(anyhow::Error::msg)?;
    // Fail on a template that does not fit before the model loads.
    Template::resolve(&a.format, &bench).map_err(anyhow::Error::msg)?;
    let t0 = Instant::now();
    let input = read_model(&model_path)?;
    let (name, sha) = (input.name.clone(), input.sha256.clone());
    let precision = precision_for(&a.precision, upload.is_some())?;
    let (model, precision) = load_model::<B>(input, precision, upload, &device)
        .with_context(|| format!("loading {name}"))?;
    let backend = &format!("{backend}, {}", precision.weights_label(upload.is_some()));
    let load_s = t0.elapsed().as_secs_f64();
    let model_name = registry::by_sha256(&sha)
        .map(|e| e.name.to_string())
        .unwrap_or_else(|| model.name.clone());
    let cfg = settings
        .build(
            ModelRef {
                name: model_name,
                file: model_path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                sha256: sha,
            },
            &bench,
            &bench_hash,
        )
        .map_err(anyhow::Error::msg)?;
    let template = cfg.template;
    // A configuration the model cannot run (--chat on a base model) stops here, before the run file.
    Evaluator::new(&model, cfg.clone())
        .check()
        .map_err(anyhow::Error::msg)?;
    let plan = plan(&bench, &cfg, a.slice, a.limit).map_err(anyhow::Error::msg)?;
    let out_name = a.out.display().to_string();

    // Resume: an existing run file must hold the same configuration (and slice).
    let mut previous = Vec::new();
    let existing = std::fs::read(&a.out).ok().filter(|b| !b.is_empty());
    let mut file = match existing {
        Some(bytes) => {
            let prev = parse_run(&out_name, &bytes).map_err(anyhow::Error::msg)?;
            if prev.header.config_hash != cfg.hash() {
                bail!(
                    "{out_name} holds a run with a different configuration:\n  {}\nuse another --out, or delete the file to start over",
                    config_diff(&prev.header.config, &cfg).join("\n  ")
                );
            }
            if prev.header.slice != a.slice {
                bail!("{out_name} holds slice {:?}, not {:?}; use one file per slice and `bedside merge` them", prev.header.slice, a.slice);
            }
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&a.out)
                .with_context(|| format!("opening {out_name}"))?;
            f.set_len(prev.valid_len as u64)?;
            if prev.dropped_partial_line {
                eprintln!("note: {out_name} ended with a cut-off record (the process was stopped mid-write); dropped it, that item is evaluated again");
            }
            previous = prev.records;
            let mut f = std::fs::OpenOptions::new().append(true).open(&a.out)?;
            if !bytes[..prev.valid_len].ends_with(b"\n") && prev.valid_len > 0 {
                f.write_all(b"\n")?;
            }
            f
        }
        None => {
            if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            let mut f =
                std::fs::File::create(&a.out).with_context(|| format!("creating {out_name}"))?;
            let header = RunHeader {
                bedside_run: RUN_FORMAT,
                bedside_version: env!("CARGO_PKG_VERSION").to_string(),
                config_hash: cfg.hash(),
                config: cfg.clone(),
                slice: a.slice,
                planned_items: plan.planned,
                backend: backend.to_string(),
                merged_from: Vec::new(),
            };
            f.write_all(to_line(&header).as_bytes())?;
            f
        }
    };
    let todo = plan
        .items
        .iter()
        .filter(|p| !previous.iter().any(|r| r.id == p.item.id))
        .count();
    if !a.quiet {
        eprintln!(
            "{} on {} ({} {} items{}{}) | {} | template {} | method {} | {}-shot | loaded in {load_s:.1}s",
            cfg.model.name,
            cfg.benchmark.name,
            plan.items.len(),
            a.split,
            if previous.is_empty() { String::new() } else { format!(", {} already done", plan.items.len() - todo) },
            if plan.skipped_by_probe > 0 { format!(", {} skipped by probes", plan.skipped_by_probe) } else { String::new() },
            backend,
            template,
            a.method,
            a.shots
        );
    }
    let mut ev = Evaluator::new(&model, cfg.clone());
    ev.naive = a.no_prefix_sharing;
    let tty = std::io::stderr().is_terminal() && !a.quiet;
    let started = Instant::now();
    let mut last_draw = Instant::now() - std::time::Duration::from_secs(1);
    let mut sink_err = None;
    let mut last = Progress::default();
    run(
        &ev,
        &plan,
        &previous,
        |rec| {
            // One write per record, flushed: a kill loses at most the item in flight.
            let r = file
                .write_all(to_line(rec).as_bytes())
                .and_then(|_| file.flush());
            r.map_err(|e| {
                let m = format!("writing {out_name}: {e}");
                sink_err = Some(m.clone());
                m
            })
        },
        |p| {
            last = p.clone();
            if tty && (last_draw.elapsed().as_millis() >= 200 || p.done == p.total) {
                last_draw = Instant::now();
                draw(p);
            }
            true
        },
    )
    .map_err(anyhow::Error::msg)?;
    if tty {
        eprintln!();
    }
    file.sync_all().ok();
    if a.stats_json {
        println!(
            "{}",
            serde_json::json!({"items": last.session_done, "seconds": last.session_ms / 1000.0, "load_s": load_s, "peak_rss": peak_rss().unwrap_or(0)})
        );
    }
    let bytes = std::fs::read(&a.out)?;
    let runf = parse_run(&out_name, &bytes).map_err(anyhow::Error::msg)?;
    let rep = report::build(&runf.header, &runf.records);
    if !a.quiet {
        eprintln!(
            "{}: {} {} ({}/{}), 95% CI {}; {} unextractable, {} failed; {} items this session in {:.1}s; peak RSS {}",
            out_name,
            rep.metric_name(),
            rep.accuracy.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or("-".into()),
            rep.correct,
            rep.answered,
            rep.wilson.map(|i| format!("{:.1}-{:.1}%", i.low * 100.0, i.high * 100.0)).unwrap_or("-".into()),
            rep.unextractable,
            rep.failed,
            last.session_done,
            started.elapsed().as_secs_f64(),
            peak_rss().map(|b| format!("{:.0} MiB", b as f64 / 1048576.0)).unwrap_or("-".into())
        );
        for w in &rep.warnings {
            eprintln!("warning: {}", w.message());
        }
        eprintln!("full report: bedside report {out_name}");
    }
    Ok(ExitCode::SUCCESS)
}

fn draw(p: &Progress) {
    let width = 30;
    let filled = if p.total > 0 {
        p.done * width / p.total
    } else {
        width
    };
    let eta = p.eta_s();
    let eta = if eta.is_finite() {
        format!("{}:{:02}", eta as u64 / 60, eta as u64 % 60)
    } else {
        "--:--".into()
    };
    eprint!(
        "\r[{}{}] {}/{} | {:.2} items/s | ETA {} | acc {}   ",
        "#".repeat(filled),
        "-".repeat(width - filled),
        p.done,
        p.total,
        p.items_per_s(),
        eta,
        p.accuracy()
            .map(|x| format!("{:.1}%", x * 100.0))
            .unwrap_or("-".into())
    );
    std::io::stderr().flush().ok();
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// A run file written by `bedside eval` (or merged by `bedside merge`).
    pub run: PathBuf,
    /// The plain run to pair a probed run with: items are joined by their benchmark id, and the report
    /// gives the paired difference (bootstrap interval, exact McNemar), the flips and the probe's figures.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report (SVG charts, no scripts, no network).
    #[arg(long)]
    pub html: Option<PathBuf>,
}

pub fn report_cmd(a: ReportArgs) -> Result<ExitCode> {
    let name = a.run.display().to_string();
    let bytes = std::fs::read(&a.run).with_context(|| format!("reading {name}"))?;
    let runf = parse_run(&name, &bytes).map_err(anyhow::Error::msg)?;
    if runf.dropped_partial_line {
        eprintln!("note: {name} ends with a cut-off record (the run was stopped mid-write); it is left out");
    }
    if let Some(b) = &a.baseline {
        let bname = b.display().to_string();
        let bbytes = std::fs::read(b).with_context(|| format!("reading {bname}"))?;
        let base = parse_run(&bname, &bbytes).map_err(anyhow::Error::msg)?;
        let p = paired::pair((&base.header, &base.records), (&runf.header, &runf.records))
            .map_err(|e| anyhow::anyhow!("cannot pair {name} with {bname}: {e}"))?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&p)?);
        } else {
            print!("{}", paired::render_text(&p));
        }
        if let Some(h) = &a.html {
            std::fs::write(h, html::render_paired(&p))
                .with_context(|| format!("writing {}", h.display()))?;
            eprintln!("wrote {}", h.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rep = report::build(&runf.header, &runf.records);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        print!("{}", report::render_text(&rep));
    }
    if let Some(h) = &a.html {
        std::fs::write(h, html::render(&rep, &runf.records))
            .with_context(|| format!("writing {}", h.display()))?;
        eprintln!("wrote {}", h.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Run files of the slices of one evaluation.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// The merged run file.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn merge_cmd(a: MergeArgs) -> Result<ExitCode> {
    let mut parts = Vec::new();
    for p in &a.runs {
        let name = p.display().to_string();
        let bytes = std::fs::read(p).with_context(|| format!("reading {name}"))?;
        parts.push((
            name.clone(),
            parse_run(&name, &bytes).map_err(anyhow::Error::msg)?,
        ));
    }
    let merge::Merged {
        header,
        records,
        missing_slices,
    } = merge::merge(&parts).map_err(anyhow::Error::msg)?;
    if !missing_slices.is_empty() {
        eprintln!("note: slices {} are not among the merged files; the report will show the run as incomplete", missing_slices.join(", "));
    }
    let mut out = to_line(&header);
    for r in &records {
        out.push_str(&to_line(r));
    }
    std::fs::write(&a.out, out).with_context(|| format!("writing {}", a.out.display()))?;
    eprintln!(
        "merged {} run files: {} items -> {}",
        parts.len(),
        records.len(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        eval: EvalArgs,
    }

    /// The CLI's defaults are the engine's defaults (the browser uses `RunSettings::default()`), so the
    /// same choices give the same configuration hash in both.
    #[test]
    fn default_arguments_are_the_engine_defaults() {
        let cli = Cli::parse_from(["bedside", "--model", "m.gguf", "--bench", "b", "--out", "o"]);
        assert_eq!(cli.eval.settings(), RunSettings::default());
        let cli = Cli::parse_from([
            "bedside", "--model", "m.gguf", "--bench", "b", "--out", "o", "--method", "letter",
            "--chat", "--shots", "3", "--probe", "shuffle",
        ]);
        let s = cli.eval.settings();
        assert_eq!(
            s,
            RunSettings {
                method: Method::Letter,
                chat: true,
                shots: 3,
                probes: vec![Probe::Shuffle { k: 1 }],
                ..RunSettings::default()
            }
        );
    }
}
