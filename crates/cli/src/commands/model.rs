//! `bedside model info` and `bedside generate`.

use anyhow::{Context, Result};
use bedside_bench::hash::sha256_hex;
use bedside_model::chat::{render, Message};
use bedside_model::gguf::MetaValue;
use bedside_model::hf::{HfCheckpoint, HfFiles};
use bedside_model::layers::Upload;
use bedside_model::registry;
use bedside_model::sampling::{sample, SplitMix};
use bedside_model::{Gguf, Model, Precision};
use burn::backend::{Flex, NdArray};
use burn::tensor::backend::Backend;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum ModelCommand {
    /// Describe a model (a GGUF file or a Hugging Face folder): architecture, parameters, tensor types,
    /// license, memory.
    Info {
        /// The .gguf file, or a folder with config.json, tokenizer.json and *.safetensors.
        file: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// The model: a .gguf file, or a folder with config.json, tokenizer.json and *.safetensors.
    #[arg(long)]
    pub model: PathBuf,
    /// The prompt text.
    #[arg(long)]
    pub prompt: String,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 64)]
    pub max_tokens: usize,
    /// Wrap the prompt in the model's chat template as a user turn.
    #[arg(long)]
    pub chat: bool,
    /// 0 for greedy decoding.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    #[arg(long, default_value_t = 0.95)]
    pub top_p: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// cpu (Burn's flex backend, the fastest CPU path measured), ndarray, or wgpu (GPU; built with the
    /// `wgpu` feature; falls back to the CPU when no adapter exists).
    #[arg(long, default_value = "cpu")]
    pub backend: String,
    /// Weights in memory: auto (q8-activations on the CPU, quantized on the GPU); q8-activations (the
    /// file's blocks, about the file's size, with short products on 8-bit activations and integer dot
    /// products, as llama.cpp: fastest, not exact; CPU only); quantized (the file's blocks, exact
    /// products; on the GPU dequantised inside the kernel); or f32 (dequantised at load, 4 bytes a
    /// parameter; the oracle).
    #[arg(long, default_value = "auto")]
    pub precision: String,
}

/// The weight precision: `auto` keeps weights in their quantised blocks: on the CPU with short products
/// on 8-bit activations (`q8-activations`), on the GPU dequantised inside the kernel (`quantized`; about
/// the file's size in GPU memory, where f32 takes 4 bytes a parameter). `q8-activations` is CPU-only.
pub fn precision_for(requested: &str, gpu: bool) -> Result<Precision> {
    let p = match requested {
        "auto" if gpu => Precision::Quantized,
        "auto" => Precision::Q8Activations,
        s => Precision::parse(s).ok_or_else(|| {
            anyhow::anyhow!("unknown precision `{s}`; use auto, q8-activations, quantized or f32")
        })?,
    };
    if gpu && p == Precision::Q8Activations {
        anyhow::bail!("--precision q8-activations runs on the CPU only; use quantized (or auto) or f32 with the GPU backend");
    }
    Ok(p)
}

/// A model as read from disk: a GGUF file, or a Hugging Face checkpoint folder.
pub enum ModelFiles {
    Gguf(Vec<u8>),
    Hf(HfFiles),
}

pub struct ModelInput {
    pub name: String,
    pub files: ModelFiles,
    /// SHA-256 of the GGUF file; for a folder, of its files' names and hashes.
    pub sha256: String,
}

/// Read a `.gguf` file, or a folder with `config.json`, `tokenizer.json`, optional
/// `tokenizer_config.json` and one or more `*.safetensors`.
pub fn read_model(path: &Path) -> Result<ModelInput> {
    let name = path.display().to_string();
    if !path.is_dir() {
        let bytes = std::fs::read(path).with_context(|| format!("reading {name}"))?;
        return Ok(ModelInput {
            name,
            sha256: sha256_hex(&bytes),
            files: ModelFiles::Gguf(bytes),
        });
    }
    let text = |f: &str| {
        std::fs::read_to_string(path.join(f)).with_context(|| {
            format!("{name}: a model folder needs {f} (with config.json, tokenizer.json and *.safetensors)")
        })
    };
    let (config, tokenizer) = (text("config.json")?, text("tokenizer.json")?);
    let tokenizer_config = std::fs::read_to_string(path.join("tokenizer_config.json")).ok();
    let mut shards: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    shards.sort();
    let mut safetensors = Vec::new();
    for p in shards {
        let f = p
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
        safetensors.push((f, bytes));
    }
    let sha256 = bedside_eval::config::ModelRef::hf_sha256(&config, &tokenizer, &safetensors);
    Ok(ModelInput {
        name,
        sha256,
        files: ModelFiles::Hf(HfFiles {
            config,
            tokenizer,
            tokenizer_config,
            safetensors,
        }),
    })
}

/// Load a model at `precision`; quantised, the model keeps the file's bytes (no second copy). With an
/// `upload` hook (the GPU), a quantised GGUF's matrices go to the device in their blocks; a Hugging Face
/// checkpoint has no blocks and goes as f32. Returns the precision the weights really have.
pub fn load_model<B: Backend>(
    input: ModelInput,
    precision: Precision,
    upload: Option<Upload<B>>,
    device: &B::Device,
) -> Result<(Model<B>, Precision)> {
    Ok(match (input.files, upload) {
        (ModelFiles::Gguf(bytes), Some(up)) if precision == Precision::Quantized => (
            Model::<B>::from_gguf_blob_on_device(&input.name, Arc::new(bytes), up, device)?,
            precision,
        ),
        (ModelFiles::Gguf(bytes), _) => (
            Model::<B>::from_gguf_blob(&input.name, Arc::new(bytes), precision, device)?,
            precision,
        ),
        (ModelFiles::Hf(files), Some(_)) => (
            Model::<B>::from_hf(&input.name, files, Precision::F32, device)?,
            Precision::F32,
        ),
        (ModelFiles::Hf(files), None) => (
            Model::<B>::from_hf(&input.name, files, precision, device)?,
            precision,
        ),
    })
}

/// Peak resident memory of this process so far (Linux), in bytes.
pub fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()
        .map(|kb| kb * 1024)
}

pub fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

pub fn info(file: PathBuf, json: bool) -> Result<ExitCode> {
    let input = read_model(&file)?;
    let (name, sha) = (input.name, input.sha256);
    let (g, bytes) = match input.files {
        ModelFiles::Gguf(bytes) => (Gguf::parse(&name, &bytes)?, bytes),
        ModelFiles::Hf(files) => {
            let ck = HfCheckpoint::read(&name, files)?;
            (ck.gguf, ck.bytes)
        }
    };
    let known = registry::by_sha256(&sha);
    let params = g.parameter_count();
    let mut types: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for t in &g.tensors {
        let e = types.entry(t.ty.name()).or_default();
        e.0 += 1;
        e.1 += t.elements();
        e.2 += t.byte_len();
    }
    let s = |k: &str| g.get(k).and_then(MetaValue::as_str).map(str::to_string);
    let tokenizer = bedside_model::tokenizer::Tokenizer::from_gguf(&g).ok();
    let f32_bytes = params as u64 * 4;
    let out = serde_json::json!({
        "file": name,
        "bytes": bytes.len(),
        "sha256": sha,
        "registry": known.map(|e| e.id),
        "name": s("general.name"),
        "architecture": g.architecture(),
        "parameters": params,
        "license": s("general.license").or_else(|| known.map(|e| e.license.to_string())),
        "context_length": g.arch_get("context_length").and_then(MetaValue::as_u64),
        "layers": g.arch_get("block_count").and_then(MetaValue::as_u64),
        "hidden": g.arch_get("embedding_length").and_then(MetaValue::as_u64),
        "vocab": tokenizer.as_ref().map(|t| t.vocab_size()),
        "tokenizer": s("tokenizer.ggml.model"),
        "chat_template": g.get("tokenizer.chat_template").is_some(),
        "tensor_types": types.iter().map(|(k, v)| (k.to_string(), serde_json::json!({"tensors": v.0, "elements": v.1, "bytes": v.2}))).collect::<serde_json::Map<_, _>>(),
        "memory": {"quantized_weights": bytes.len(), "f32_weights": f32_bytes},
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{name}");
    println!("  name           {}", s("general.name").unwrap_or_default());
    println!("  architecture   {}", g.architecture().unwrap_or("?"));
    println!("  parameters     {:.1}M", params as f64 / 1e6);
    for k in [
        "block_count",
        "embedding_length",
        "feed_forward_length",
        "attention.head_count",
        "attention.head_count_kv",
        "context_length",
        "rope.freq_base",
    ] {
        if let Some(v) = g.arch_get(k) {
            println!(
                "  {:<14} {}",
                k.rsplit('.')
                    .next()
                    .unwrap_or(k)
                    .replace("_count", "s")
                    .replace("_length", ""),
                v.summary()
            );
        }
    }
    println!(
        "  tokenizer      {} ({} tokens){}",
        s("tokenizer.ggml.model").unwrap_or_default(),
        tokenizer.as_ref().map_or(0, |t| t.vocab_size()),
        if g.get("tokenizer.chat_template").is_some() {
            ", chat template"
        } else {
            ""
        }
    );
    println!(
        "  license        {}",
        out["license"].as_str().unwrap_or("not stated in the file")
    );
    println!(
        "  sha256         {sha}{}",
        known
            .map(|e| format!(" (registry: {})", e.id))
            .unwrap_or_default()
    );
    println!("  tensor types");
    for (t, (n, e, b)) in &types {
        println!(
            "    {t:<6} {n:>4} tensors  {:>7.1}M elements  {:>10}",
            *e as f64 / 1e6,
            mib(*b as u64)
        );
    }
    println!(
        "  memory         file {} (weights as stored); on a GPU in blocks {}; f32 dequantised weights {}",
        mib(bytes.len() as u64),
        mib(g.device_block_bytes()),
        mib(f32_bytes)
    );
    Ok(ExitCode::SUCCESS)
}

pub fn generate(a: GenerateArgs) -> Result<ExitCode> {
    match a.backend.as_str() {
        "cpu" | "flex" => generate_on::<Flex<f32>>(a, Default::default(), None),
        "ndarray" => generate_on::<NdArray<f32>>(a, Default::default(), None),
        #[cfg(feature = "wgpu")]
        "wgpu" => match bedside_model::device::native_wgpu_device() {
            Some(device) => {
                eprintln!("backend: gpu (burn-wgpu)");
                generate_on::<burn::backend::Wgpu>(
                    a,
                    device,
                    Some(bedside_model::gpu_blocks::upload),
                )
            }
            None => {
                eprintln!("backend: no GPU adapter found; falling back to the CPU (burn-flex)");
                generate_on::<Flex<f32>>(a, Default::default(), None)
            }
        },
        #[cfg(not(feature = "wgpu"))]
        "wgpu" => anyhow::bail!("this bedside was built without GPU support; rebuild with `cargo build --release -p bedside-cli --features wgpu`, or use --backend cpu"),
        other => anyhow::bail!("unknown backend `{other}`; use cpu, ndarray or wgpu"),
    }
}

fn generate_on<B: Backend>(
    a: GenerateArgs,
    device: B::Device,
    upload: Option<Upload<B>>,
) -> Result<ExitCode> {
    let gpu = upload.is_some();
    let input = read_model(&a.model)?;
    let name = input.name.clone();
    let t0 = Instant::now();
    let precision = precision_for(&a.precision, gpu)?;
    let (model, _) = load_model::<B>(input, precision, upload, &device)?;
    let load = t0.elapsed();
    let text = if a.chat {
        let template = model.chat_template.as_deref().ok_or_else(|| {
            anyhow::anyhow!("{name} has no chat template (a base model); run without --chat")
        })?;
        let tok = &model.tokenizer;
        let bos = tok.bos.map(|i| tok.decode(&[i], true)).unwrap_or_default();
        let eos = tok.eos.map(|i| tok.decode(&[i], true)).unwrap_or_default();
        render(
            template,
            &[Message::new("user", &a.prompt)],
            true,
            &bos,
            &eos,
        )
        .map_err(anyhow::Error::msg)?
    } else {
        a.prompt.clone()
    };
    let prompt = model
        .tokenizer
        .encode(&text, !a.chat || model.tokenizer.add_bos, a.chat);
    let t1 = Instant::now();
    let mut state = model.prefix(&prompt);
    let prefill = t1.elapsed();
    let mut rng = SplitMix::new(a.seed);
    let mut out = Vec::new();
    let mut printed = 0;
    let t2 = Instant::now();
    print!("{}", if a.chat { "" } else { a.prompt.as_str() });
    for _ in 0..a.max_tokens {
        let next = sample(&state.last_logits, a.temperature, a.top_p, &mut rng);
        if model.tokenizer.stop_tokens.contains(&next) {
            break;
        }
        out.push(next);
        let s = model.tokenizer.decode(&out, false);
        // Print only whole characters (a multi-byte character may span tokens).
        if !s.ends_with('\u{FFFD}') {
            print!("{}", &s[printed..]);
            printed = s.len();
            std::io::stdout().flush().ok();
        }
        model.step(&mut state, next);
    }
    let decode = t2.elapsed();
    println!();
    eprintln!(
        "load {:.2}s | prefill {} tokens {:.1} tok/s | decode {} tokens {:.1} tok/s | peak RSS {}",
        load.as_secs_f64(),
        prompt.len(),
        prompt.len() as f64 / prefill.as_secs_f64(),
        out.len(),
        out.len() as f64 / decode.as_secs_f64().max(1e-9),
        peak_rss().map_or("?".into(), mib)
    );
    Ok(ExitCode::SUCCESS)
}
