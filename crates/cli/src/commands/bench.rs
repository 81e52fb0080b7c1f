//! `bedside bench model`: load time, prefill and decode speed, and peak memory of each model on each CPU
//! backend, next to llama.cpp (llama-cpp-python) on the same file, prompt and thread count, measured in the
//! same run and reported as ratios. Each measurement runs in its own process so peak memory is its own.

use super::model::{mib, peak_rss};
use anyhow::{bail, Context, Result};
use bedside_model::{Model, Precision};
use burn::backend::{Flex, NdArray};
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Speed and memory of the model runtime, against llama.cpp.
    Model(ModelArgs),
    /// Evaluation speed and memory with and without prefix sharing, on the same items.
    Eval(EvalBenchArgs),
    /// (internal) One measurement, printed as JSON.
    #[command(hide = true)]
    ModelOne {
        model: PathBuf,
        backend: String,
        prompt_file: PathBuf,
        decode_tokens: usize,
    },
}

#[derive(clap::Args)]
pub struct ModelArgs {
    /// GGUF files (default: the two registry models in models/).
    pub models: Vec<PathBuf>,
    /// Comma-separated CPU backends to measure, each `backend:precision` (flex or ndarray; quantized
    /// keeps the weights in their GGUF blocks with exact products, q8-activations also quantises the
    /// activations of short products to 8 bits, f32 dequantises the weights at load).
    #[arg(long, default_value = "flex:q8-activations,flex:quantized,flex:f32")]
    pub backends: String,
    /// Tokens to decode after the prompt.
    #[arg(long, default_value_t = 32)]
    pub decode_tokens: usize,
    /// Threads for llama.cpp (Bedside's CPU backends use all cores).
    #[arg(long, default_value_t = std::thread::available_parallelism().map_or(2, |n| n.get()))]
    pub threads: usize,
    /// Skip the llama.cpp peer.
    #[arg(long)]
    pub no_peer: bool,
}

#[derive(clap::Args)]
pub struct EvalBenchArgs {
    /// The model (.gguf or registry id).
    #[arg(long, default_value = "smollm2-135m-instruct")]
    pub model: PathBuf,
    /// Benchmark folders (default: the MedQA, PubMedQA and MMLU samples).
    pub benches: Vec<PathBuf>,
    /// Items per benchmark.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// cpu, ndarray or wgpu.
    #[arg(long, default_value = "cpu")]
    pub backend: String,
    /// Also score the same requests with a peer: `llama.cpp` (llama-cpp-python on the same GGUF file,
    /// option log-likelihood with the prompt evaluated once, scripts/bench_llama_cpp_eval.py) and report
    /// items/s and peak memory as ratios, and how often the predictions agree.
    #[arg(long)]
    pub peer: Option<String>,
    /// Threads for the peer (Bedside's CPU backends use all cores).
    #[arg(long, default_value_t = std::thread::available_parallelism().map_or(2, |n| n.get()))]
    pub threads: usize,
}

#[derive(Debug, Deserialize)]
struct PeerMeasure {
    items: usize,
    seconds: f64,
    peak_rss: u64,
    preds: Vec<usize>,
}

/// The requests Bedside scored, rebuilt from its records (the exact context; the options as presented,
/// turned into continuations as the engine does), for the peer to score.
fn requests(header: &serde_json::Value, recs: &[serde_json::Value]) -> Result<String> {
    let cfg: bedside_eval::RunConfig = serde_json::from_value(header["config"].clone())
        .context("the run header has no readable config")?;
    let mut out = String::new();
    for r in recs {
        let presented: Vec<String> = serde_json::from_value(r["presented"].clone())?;
        let choices = cfg.template.choices_for(&presented);
        let line = serde_json::json!({
            "id": r["id"],
            "context": r["prompt"],
            "continuations": bedside_eval::prompt::with_delimiter(&choices, cfg.chat),
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    Ok(out)
}

fn llama_cpp_eval(model: &str, requests: &str, threads: usize) -> Result<PeerMeasure> {
    let dir = std::env::temp_dir().join(format!("bedside-bench-peer-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("requests.jsonl");
    std::fs::write(&file, requests)?;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench_llama_cpp_eval.py");
    let o = Command::new("python3")
        .arg(&script)
        .args([
            "--model",
            model,
            "--threads",
            &threads.to_string(),
            "--requests",
        ])
        .arg(&file)
        .output()
        .context("running python3 (pip install llama-cpp-python numpy)")?;
    std::fs::remove_dir_all(&dir).ok();
    last_json_line(&o, " from the llama.cpp peer")
}

#[derive(Debug, Deserialize)]
struct EvalMeasure {
    items: usize,
    seconds: f64,
    peak_rss: u64,
}

fn eval_child(
    model: &str,
    bench: &str,
    limit: usize,
    backend: &str,
    naive: bool,
) -> Result<(EvalMeasure, serde_json::Value, Vec<serde_json::Value>)> {
    let dir = std::env::temp_dir().join(format!("bedside-bench-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let out = dir.join(if naive { "naive.jsonl" } else { "shared.jsonl" });
    std::fs::remove_file(&out).ok();
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args([
        "eval",
        "--model",
        model,
        "--bench",
        bench,
        "--limit",
        &limit.to_string(),
        "--backend",
        backend,
        "--quiet",
        "--stats-json",
        "--out",
    ])
    .arg(&out);
    if naive {
        cmd.arg("--no-prefix-sharing");
    }
    let o = cmd.output()?;
    if !o.status.success() {
        bail!(
            "bedside eval failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        );
    }
    let m: EvalMeasure = serde_json::from_str(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .last()
            .unwrap_or(""),
    )?;
    let text = std::fs::read_to_string(&out)?;
    let header = text
        .lines()
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_default();
    let recs = text
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    Ok((m, header, recs))
}

fn eval_bench(a: EvalBenchArgs) -> Result<ExitCode> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/samples");
    let benches = if a.benches.is_empty() {
        ["medqa-4options", "pubmedqa", "mmlu-medical"]
            .iter()
            .map(|b| root.join(b))
            .collect()
    } else {
        a.benches.clone()
    };
    let model = crate::commands::eval::resolve_model(&a.model)?
        .display()
        .to_string();
    println!(
        "bedside bench eval: {model}, {} items per benchmark, backend {}, option log-likelihood",
        a.limit, a.backend
    );
    match a.peer.as_deref() {
        None => {}
        Some("llama.cpp") => return eval_bench_peer(&a, &model, &benches),
        Some(other) => bail!("unknown peer `{other}` (llama.cpp)"),
    }
    println!(
        "{:<22} {:>14} {:>14} {:>8} {:>12} {:>12} {:>10}",
        "benchmark",
        "shared it/s",
        "naive it/s",
        "speedup",
        "shared RSS",
        "naive RSS",
        "max |diff|"
    );
    for b in &benches {
        let bench = b.display().to_string();
        let (s, _, sr) = eval_child(&model, &bench, a.limit, &a.backend, false)?;
        let (n, _, nr) = eval_child(&model, &bench, a.limit, &a.backend, true)?;
        let mut worst = 0f64;
        for (x, y) in sr.iter().zip(&nr) {
            for (p, q) in x["scores"]
                .as_array()
                .into_iter()
                .flatten()
                .zip(y["scores"].as_array().into_iter().flatten())
            {
                worst = worst.max((p.as_f64().unwrap_or(0.0) - q.as_f64().unwrap_or(0.0)).abs());
            }
        }
        let (si, ni) = (s.items as f64 / s.seconds, n.items as f64 / n.seconds);
        println!(
            "{:<22} {:>14.2} {:>14.2} {:>7.2}x {:>12} {:>12} {:>10.1e}",
            b.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            si,
            ni,
            si / ni,
            mib(s.peak_rss),
            mib(n.peak_rss),
            worst
        );
    }
    println!("(shared: the prompt runs once and each option is scored from a fork of its KV cache; naive: prompt + option from scratch per option, as lm-eval-harness does)");
    Ok(ExitCode::SUCCESS)
}

/// `bench eval --peer llama.cpp`: Bedside (prefix sharing, the default precision) and llama.cpp on the
/// same requests, one after the other on a quiet machine.
fn eval_bench_peer(a: &EvalBenchArgs, model: &str, benches: &[PathBuf]) -> Result<ExitCode> {
    println!(
        "peer: llama.cpp (llama-cpp-python), {} threads, the same requests (prompt evaluated once, options scored from it)",
        a.threads
    );
    println!(
        "{:<22} {:>6} {:>12} {:>14} {:>12} {:>12} {:>10}",
        "benchmark", "items", "bedside it/s", "llama.cpp it/s", "bedside RSS", "llama RSS", "agree"
    );
    let (mut agree_all, mut n_all) = (0usize, 0usize);
    for b in benches {
        let bench = b.display().to_string();
        let (s, header, recs) = eval_child(model, &bench, a.limit, &a.backend, false)?;
        let p = llama_cpp_eval(model, &requests(&header, &recs)?, a.threads)?;
        let agree = recs
            .iter()
            .zip(&p.preds)
            .filter(|(r, q)| r["pred"].as_u64() == Some(**q as u64))
            .count();
        agree_all += agree;
        n_all += recs.len();
        let (bi, pi) = (s.items as f64 / s.seconds, p.items as f64 / p.seconds);
        println!(
            "{:<22} {:>6} {:>12.2} {:>14.2} {:>12} {:>12} {:>5}/{:<4}",
            b.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            recs.len(),
            bi,
            pi,
            mib(s.peak_rss),
            mib(p.peak_rss),
            agree,
            recs.len()
        );
        println!(
            "{:<22} {:>6} {:>11.2}x {:>14} {:>11.2}x",
            "  bedside / llama.cpp",
            "",
            bi / pi,
            "",
            s.peak_rss as f64 / p.peak_rss.max(1) as f64
        );
    }
    println!(
        "predictions agree on {agree_all}/{n_all} items ({:.1}%); items/s excludes model loading; RSS is each process's peak",
        100.0 * agree_all as f64 / n_all.max(1) as f64
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize, Deserialize)]
struct Measure {
    load_s: f64,
    prompt_tokens: usize,
    prefill_tps: f64,
    decode_tokens: usize,
    decode_tps: f64,
    peak_rss: u64,
}

/// The benchmark prompt: a real MedQA item from the bundled sample.
fn prompt_text() -> Result<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/samples/medqa-4options/test-000.jsonl");
    let line =
        std::fs::read_to_string(&root).with_context(|| format!("reading {}", root.display()))?;
    let v: serde_json::Value = serde_json::from_str(line.lines().next().unwrap_or("{}"))?;
    let mut s = format!("Question: {}\n", v["question"].as_str().unwrap_or_default());
    for (i, o) in v["options"].as_array().into_iter().flatten().enumerate() {
        s.push_str(&format!(
            "{}. {}\n",
            (b'A' + i as u8) as char,
            o.as_str().unwrap_or_default()
        ));
    }
    s.push_str("Answer:");
    Ok(s)
}

fn one<B: Backend>(
    model: &PathBuf,
    precision: Precision,
    text: &str,
    decode_tokens: usize,
) -> Result<Measure> {
    let name = model.display().to_string();
    let t0 = Instant::now();
    let bytes = std::fs::read(model).with_context(|| format!("reading {name}"))?;
    let m = Model::<B>::from_gguf_blob(&name, Arc::new(bytes), precision, &Default::default())?;
    let load_s = t0.elapsed().as_secs_f64();
    let ids = m.tokenizer.encode(text, true, false);
    let t1 = Instant::now();
    let mut state = m.prefix(&ids);
    let prefill = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    for _ in 0..decode_tokens {
        let next = bedside_model::sampling::argmax(&state.last_logits);
        m.step(&mut state, next);
    }
    let decode = t2.elapsed().as_secs_f64();
    Ok(Measure {
        load_s,
        prompt_tokens: ids.len(),
        prefill_tps: ids.len() as f64 / prefill,
        decode_tokens,
        decode_tps: decode_tokens as f64 / decode,
        peak_rss: peak_rss().unwrap_or(0),
    })
}

fn child(args: &[String]) -> Result<Measure> {
    let out = Command::new(&args[0])
        .args(&args[1..])
        .output()
        .with_context(|| format!("running {}", args[0]))?;
    last_json_line(&out, "")
}

/// A measuring child's result: its last stdout line as JSON, or `Err` with its last stderr line when it
/// failed (`what` names it in the message about unexpected output).
fn last_json_line<T: serde::de::DeserializeOwned>(
    out: &std::process::Output,
    what: &str,
) -> Result<T> {
    if !out.status.success() {
        bail!(
            "{}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("failed")
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or(""))
        .with_context(|| format!("unexpected output{what}: {text}"))
}

pub fn run(cmd: BenchCommand) -> Result<ExitCode> {
    match cmd {
        BenchCommand::Eval(a) => eval_bench(a),
        BenchCommand::ModelOne {
            model,
            backend,
            prompt_file,
            decode_tokens,
        } => {
            let text = std::fs::read_to_string(prompt_file)?;
            let (backend, precision) = backend.split_once(':').unwrap_or((&backend, "f32"));
            let p = Precision::parse(precision).with_context(|| {
                format!("unknown precision `{precision}` (f32, quantized, q8-activations)")
            })?;
            let m = match backend {
                "flex" => one::<Flex<f32>>(&model, p, &text, decode_tokens)?,
                "ndarray" => one::<NdArray<f32>>(&model, p, &text, decode_tokens)?,
                other => bail!("unknown backend `{other}` (flex, ndarray)"),
            };
            println!("{}", serde_json::to_string(&m)?);
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Model(a) => bench_models(a),
    }
}

fn bench_models(a: ModelArgs) -> Result<ExitCode> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let models = if a.models.is_empty() {
        bedside_model::registry::REGISTRY
            .iter()
            .map(|e| root.join("models").join(e.file))
            .collect()
    } else {
        a.models.clone()
    };
    let prompt_file =
        std::env::temp_dir().join(format!("bedside-bench-prompt-{}.txt", std::process::id()));
    std::fs::write(&prompt_file, prompt_text()?)?;
    let exe = std::env::current_exe()?.display().to_string();
    let pf = prompt_file.display().to_string();
    println!(
        "prompt: a real MedQA item ({} bytes); decode {} tokens greedily; llama.cpp threads {}",
        std::fs::metadata(&prompt_file)?.len(),
        a.decode_tokens,
        a.threads
    );
    println!(
        "{:<34} {:<22} {:>7} {:>8} {:>15} {:>15} {:>10} {:>9}",
        "model", "runtime", "load s", "prompt", "prefill t/s", "decode t/s", "peak RSS", "RSS/file"
    );
    let mib = |b: u64| format!("{:.0} MiB", b as f64 / 1048576.0);
    for model in &models {
        let short = model
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file_len = std::fs::metadata(model).map_or(0, |m| m.len()).max(1);
        let per_file = |rss: u64| format!("{:.2}", rss as f64 / file_len as f64);
        let peer = if a.no_peer {
            None
        } else {
            let script = root
                .join("scripts/bench_llama_cpp.py")
                .display()
                .to_string();
            let args = [
                "python3",
                &script,
                "--model",
                &model.display().to_string(),
                "--prompt-file",
                &pf,
                "--decode-tokens",
                &a.decode_tokens.to_string(),
                "--threads",
                &a.threads.to_string(),
            ];
            match child(&args.map(String::from)) {
                Ok(m) => Some(m),
                Err(e) => {
                    println!("{short:<34} llama.cpp        unavailable ({e}); pip install llama-cpp-python to compare");
                    None
                }
            }
        };
        if let Some(p) = &peer {
            println!(
                "{short:<34} {:<22} {:>7.2} {:>8} {:>15.1} {:>15.1} {:>10} {:>9}",
                "llama.cpp",
                p.load_s,
                p.prompt_tokens,
                p.prefill_tps,
                p.decode_tps,
                mib(p.peak_rss),
                per_file(p.peak_rss)
            );
        }
        for backend in a
            .backends
            .split(',')
            .map(str::trim)
            .filter(|b| !b.is_empty())
        {
            let args = [
                exe.as_str(),
                "bench",
                "model-one",
                &model.display().to_string(),
                backend,
                &pf,
                &a.decode_tokens.to_string(),
            ];
            match child(&args.map(String::from)) {
                Ok(m) => {
                    let ratio = |x: f64, y: Option<f64>| {
                        y.map_or(String::new(), |y| format!(" ({:.2}x)", x / y))
                    };
                    println!(
                        "{short:<34} {:<22} {:>7.2} {:>8} {:>15} {:>15} {:>10} {:>9}",
                        format!("bedside/{backend}"),
                        m.load_s,
                        m.prompt_tokens,
                        format!(
                            "{:.1}{}",
                            m.prefill_tps,
                            ratio(m.prefill_tps, peer.as_ref().map(|p| p.prefill_tps))
                        ),
                        format!(
                            "{:.1}{}",
                            m.decode_tps,
                            ratio(m.decode_tps, peer.as_ref().map(|p| p.decode_tps))
                        ),
                        mib(m.peak_rss),
                        per_file(m.peak_rss)
                    );
                }
                Err(e) => println!("{short:<34} bedside/{backend} failed: {e}"),
            }
        }
    }
    println!("ratios are Bedside / llama.cpp throughput in this run (1.00x = same speed; the targets on the quantised CPU path: prefill >= 1.0x, decode >= 0.8x)");
    let _ = std::fs::remove_file(&prompt_file);
    Ok(ExitCode::SUCCESS)
}
