//! The engine: plan the items of a run, evaluate one item at a time into an [`ItemRecord`], and drive a
//! whole run with progress and cancellation. Nothing here blocks for longer than one item, so a browser
//! worker can call [`Evaluator::evaluate`] between messages; the CLI uses [`run`].

use crate::config::{Method, RunConfig};
use crate::extract::{cut_at_stop, extract_choice, extract_choices, extract_number};
use crate::fewshot::{self, Bm25, FewshotSampler};
use crate::prompt::{self, split_trailing_space, Prompt};
use crate::record::{ItemRecord, Slice, Status};
use bedside_bench::probes;
use bedside_bench::task::Task;
use bedside_bench::{Benchmark, Item};
use bedside_model::chat::{render, Message};
use bedside_model::sampling::{argmax, sample, SplitMix};
use bedside_model::scoring::Prefix;
use bedside_model::Model;
use burn::tensor::backend::Backend;
use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// Splits few-shot examples are drawn from, in order of preference.
pub const FEWSHOT_SPLITS: [&str; 3] = ["dev", "validation", "train"];

/// One item of a run, after probes, with its few-shot examples chosen.
#[derive(Debug, Clone)]
pub struct PlannedItem {
    /// Position in the evaluation order of the whole split (stable across slices and limits).
    pub index: usize,
    pub shard: String,
    pub item: Item,
    /// Indices into [`Plan::pool`].
    pub shots: Vec<usize>,
    /// The benchmark's id of the item a probe made this variant from (the item's own id otherwise).
    pub source_id: String,
    /// `order[i]`: the source option shown at position `i`.
    pub order: Vec<usize>,
    /// A sentence a probe added to the question, and the option it favours (in the order shown).
    pub injected: Option<String>,
    pub suggested: Option<usize>,
}

/// The items a run evaluates, in order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub task: Task,
    pub items: Vec<PlannedItem>,
    /// Few-shot pool (empty for zero-shot).
    pub pool: Vec<Item>,
    pub pool_split: Option<String>,
    /// Items in the split (or slice) before `--limit`.
    pub planned: usize,
    /// Items a probe does not apply to (left out).
    pub skipped_by_probe: usize,
}

/// Choose and order the items of a run. `limit` keeps the first N items (of the slice, if any).
pub fn plan(
    bench: &Benchmark,
    cfg: &RunConfig,
    slice: Option<Slice>,
    limit: Option<usize>,
) -> Result<Plan, String> {
    let split = cfg.benchmark.split.as_str();
    let task = bench.manifest.task;
    if task == Task::Numeric && cfg.method != Method::Generate {
        return Err("numeric benchmarks are answered by generation: use --method generate".into());
    }
    if task.is_multi() {
        if cfg.method != Method::Generate {
            return Err("mcq_multi benchmarks (several correct options) are answered by generation: use --method generate (the model writes every letter it chooses). Option probabilities are not used: no threshold on them is known to pick a set soundly".into());
        }
        if !cfg.probes.is_empty() {
            return Err("probes apply to single-answer items; this benchmark is mcq_multi: run it without --probe".into());
        }
    }
    let all: Vec<(String, Item)> = bench
        .items_in_split(split)
        .map(|(s, li)| (s.entry.file.clone(), li.item.clone()))
        .collect();
    if bench.is_empty() {
        let empty: Vec<&str> = bench.shards.iter().map(|s| s.entry.file.as_str()).collect();
        return Err(format!("the benchmark holds no items (empty shards: {}); add items or point --bench at another folder", empty.join(", ")));
    }
    if all.is_empty() {
        let mut splits: Vec<&str> = bench.shards.iter().map(|s| s.entry.split()).collect();
        splits.dedup();
        return Err(format!(
            "the benchmark has no `{split}` items; its splits are: {} (choose one with --split)",
            splits.join(", ")
        ));
    }
    let (pool, pool_split) = if cfg.shots > 0 {
        let found = FEWSHOT_SPLITS
            .iter()
            .filter(|&&s| s != split)
            .find(|&&s| bench.items_in_split(s).next().is_some());
        match found {
            Some(s) => (bench.items_in_split(s).map(|(_, li)| li.item.clone()).collect::<Vec<_>>(), Some(s.to_string())),
            None => {
                return Err(format!(
                    "--shots {} needs examples from a dev, validation or train split, and this benchmark has none besides `{split}`; use --shots 0 or add a dev shard (`bedside convert` keeps dev/train files as their own splits)",
                    cfg.shots
                ))
            }
        }
    } else {
        (Vec::new(), None)
    };
    let bm25 = (cfg.shots > 0 && cfg.fewshot == FewshotSampler::Nearest).then(|| Bm25::new(&pool));
    let mut items = Vec::new();
    let mut planned = 0;
    let mut skipped = 0;
    // A probe making several variants of an item numbers the variants in order over the whole split
    // (so slices and library keys stay distinct); otherwise an item keeps its position.
    let multi = cfg.probes.iter().any(|p| p.variants_per_item(2) > 1);
    let mut counter = 0;
    let mut sources = 0;
    for (position, (shard, item)) in all.into_iter().enumerate() {
        let in_slice = slice.is_none_or(|s| s.contains(position));
        // Few-shot examples are chosen for the benchmark's item, so every variant of it gets the same
        // ones (a probe's effect is not mixed with a change of examples).
        let shots = if cfg.shots > 0 && in_slice {
            fewshot::select(
                cfg.fewshot,
                &pool,
                bm25.as_ref(),
                &item,
                cfg.shots,
                cfg.seed,
            )
        } else {
            Vec::new()
        };
        let variants = if cfg.probes.is_empty() {
            vec![probes::Variant::plain(item)]
        } else {
            probes::apply_all(&cfg.probes, item, cfg.seed)
        };
        if variants.is_empty() {
            skipped += in_slice as usize;
            continue;
        }
        // `limit` counts the benchmark's items, so a probe's variants of one item stay together.
        let within_limit = limit.is_none_or(|l| sources < l);
        if in_slice && within_limit && !variants.is_empty() {
            sources += 1;
        }
        for v in variants {
            let index = if multi { counter } else { position };
            counter += 1;
            if !in_slice {
                continue;
            }
            planned += 1;
            if !within_limit {
                continue;
            }
            items.push(PlannedItem {
                index,
                shard: shard.clone(),
                item: v.item,
                shots: shots.clone(),
                source_id: v.source_id,
                order: v.order,
                injected: v.injected,
                suggested: v.suggested,
            });
        }
    }
    Ok(Plan {
        task,
        items,
        pool,
        pool_split,
        planned,
        skipped_by_probe: skipped,
    })
}

/// Why an item could not be evaluated: the item itself (recorded as `failed` with the reason), or the
/// device (the GPU was lost: not the item's fault, so the caller can move to another backend and
/// evaluate it again).
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Item(String),
    Device(String),
}

impl From<String> for Failure {
    fn from(m: String) -> Self {
        Failure::Item(m)
    }
}

impl From<&str> for Failure {
    fn from(m: &str) -> Self {
        Failure::Item(m.to_string())
    }
}

impl From<bedside_model::ModelError> for Failure {
    fn from(e: bedside_model::ModelError) -> Self {
        match e {
            bedside_model::ModelError::Device { .. } => Failure::Device(e.to_string()),
            other => Failure::Item(other.to_string()),
        }
    }
}

/// The device failed while evaluating an item; the item has no record yet.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceFailure(pub String);

/// A clock in milliseconds (the browser passes `performance.now`).
pub type Clock = fn() -> f64;

#[cfg(not(target_family = "wasm"))]
pub fn native_clock() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// In the browser the worker sets `performance.now` as the clock; until then latencies read 0.
#[cfg(target_family = "wasm")]
fn no_clock() -> f64 {
    0.0
}

/// Evaluates items with one model under one configuration.
pub struct Evaluator<'m, B: Backend> {
    pub model: &'m Model<B>,
    pub cfg: RunConfig,
    /// Score every option from scratch instead of from the shared prompt (the correctness oracle; slower).
    pub naive: bool,
    pub clock: Clock,
}

/// Probabilities from log-scores (stable: the maximum is subtracted first).
pub(crate) fn softmax(xs: &[f64]) -> Vec<f64> {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = xs.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|x| x / s).collect()
}

/// How many leading tokens every continuation shares (0 for fewer than two).
fn shared_prefix_len(conts: &[Vec<u32>]) -> usize {
    let Some(first) = conts.first() else {
        return 0;
    };
    if conts.len() < 2 {
        return 0;
    }
    (0..first.len())
        .take_while(|&i| conts.iter().all(|c| c.get(i) == Some(&first[i])))
        .count()
}

fn first_max(xs: &[f64]) -> Option<usize> {
    bedside_bench::metrics::argmax(xs).map(|(i, _)| i)
}

impl<'m, B: Backend> Evaluator<'m, B> {
    pub fn new(model: &'m Model<B>, cfg: RunConfig) -> Self {
        #[cfg(not(target_family = "wasm"))]
        let clock: Clock = native_clock;
        #[cfg(target_family = "wasm")]
        let clock: Clock = no_clock;
        Evaluator {
            model,
            cfg,
            naive: false,
            clock,
        }
    }

    /// Whether the model can run the configuration at all, before any item: `--chat` needs the
    /// model's chat template (a base model has none). Callers check this upfront so such a run stops
    /// with one message instead of one failed record per item.
    pub fn check(&self) -> Result<(), String> {
        self.chat_template().map(|_| ())
    }

    /// The chat template when the run renders prompts with it (`Ok(None)` without `--chat`).
    fn chat_template(&self) -> Result<Option<&str>, String> {
        if !self.cfg.chat {
            return Ok(None);
        }
        self.model
            .chat_template
            .as_deref()
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "{} has no chat template (a base model); run without --chat",
                    self.model.name
                )
            })
    }

    /// The prompt of a planned item (exact text the model sees).
    pub fn prompt(&self, plan: &Plan, p: &PlannedItem) -> Result<Prompt, String> {
        let shots: Vec<&Item> = p.shots.iter().map(|&i| &plan.pool[i]).collect();
        let cot = self.cfg.method == Method::Generate && self.cfg.cot;
        if let Some(template) = self.chat_template()? {
            let tok = &self.model.tokenizer;
            let bos = tok.bos.map(|i| tok.decode(&[i], true)).unwrap_or_default();
            let eos = tok.eos.map(|i| tok.decode(&[i], true)).unwrap_or_default();
            let renderer =
                |user: &str| render(template, &[Message::new("user", user)], true, &bos, &eos);
            prompt::build(self.cfg.template, &p.item, &shots, Some(&renderer), cot)
        } else {
            prompt::build(self.cfg.template, &p.item, &shots, None, cot)
        }
    }

    /// Token ids of a context. BOS follows the model's metadata (as llama.cpp and lm-eval's HF backend do)
    /// unless a chat template already wrote it; control-token text is parsed only in chat mode.
    fn encode_context(&self, text: &str) -> Vec<u32> {
        let tok = &self.model.tokenizer;
        let bos_text = tok.bos.map(|i| tok.decode(&[i], true)).unwrap_or_default();
        let has_bos = self.cfg.chat && !bos_text.is_empty() && text.starts_with(&bos_text);
        tok.encode(text, !has_bos, self.cfg.chat)
    }

    /// Evaluate one item. Never panics on bad input: problems become a `failed` record with the reason.
    /// [`Evaluator::evaluate_async`], blocking (native code and CPU backends).
    pub fn evaluate(&self, plan: &Plan, p: &PlannedItem) -> ItemRecord {
        bedside_model::scoring::block_on(self.evaluate_async(plan, p))
    }

    /// Evaluate one item. Asynchronous because reading results back from WebGPU can only be awaited.
    /// A device failure becomes a `failed` record (the CLI's behaviour); see
    /// [`Evaluator::evaluate_checked`] to handle it instead.
    pub async fn evaluate_async(&self, plan: &Plan, p: &PlannedItem) -> ItemRecord {
        let t0 = (self.clock)();
        match self.evaluate_checked(plan, p).await {
            Ok(rec) => rec,
            Err(DeviceFailure(e)) => {
                let mut rec = self.blank_record(p);
                rec.error = Some(e);
                rec.latency_ms = (self.clock)() - t0;
                rec
            }
        }
    }

    /// A record of `p` before evaluation (failed, no scores), holding what the model is shown.
    fn blank_record(&self, p: &PlannedItem) -> ItemRecord {
        let item = &p.item;
        ItemRecord {
            index: p.index,
            id: item.id.clone(),
            shard: p.shard.clone(),
            subject: item.subject.clone(),
            prompt_hash: String::new(),
            options: item.options.len(),
            scores: Vec::new(),
            norm_scores: Vec::new(),
            probs: None,
            pred: None,
            pred_norm: None,
            gold: item.answer.index(),
            pred_value: None,
            gold_value: match item.answer {
                bedside_bench::Answer::Numeric { value, .. } => Some(value),
                _ => None,
            },
            correct: false,
            correct_norm: None,
            status: Status::Failed,
            rule: None,
            outputs: Vec::new(),
            prompt_tokens: 0,
            extra_tokens: 0,
            latency_ms: 0.0,
            error: None,
            presented: item.options.clone(),
            prompt: String::new(),
            source_id: (p.source_id != item.id).then(|| p.source_id.clone()),
            order: if p.order.iter().enumerate().all(|(i, &o)| i == o) {
                Vec::new()
            } else {
                p.order.clone()
            },
            injected: p.injected.clone(),
            suggested: p.suggested,
            gold_set: match &item.answer {
                bedside_bench::Answer::Indices(v) => v.clone(),
                _ => Vec::new(),
            },
            pred_set: Vec::new(),
        }
    }

    /// Evaluate one item; `Err` when the device failed (the item can be evaluated again elsewhere).
    pub async fn evaluate_checked(
        &self,
        plan: &Plan,
        p: &PlannedItem,
    ) -> Result<ItemRecord, DeviceFailure> {
        let t0 = (self.clock)();
        let item = &p.item;
        let mut rec = self.blank_record(p);
        let result = match self.prompt(plan, p) {
            Ok(prompt) => {
                rec.prompt_hash = hex::encode(&Sha256::digest(prompt.context.as_bytes())[..8]);
                rec.prompt = prompt.context.clone();
                match self.cfg.method {
                    Method::Loglik | Method::Letter => self.score(&prompt, &mut rec).await,
                    Method::Generate => self.generate(item, &prompt, &mut rec).await,
                }
            }
            Err(e) => Err(Failure::Item(e)),
        };
        match result {
            Ok(()) => {}
            Err(Failure::Device(e)) => return Err(DeviceFailure(e)),
            Err(Failure::Item(e)) => {
                rec.status = Status::Failed;
                rec.correct = false;
                rec.error = Some(e);
            }
        }
        rec.latency_ms = (self.clock)() - t0;
        Ok(rec)
    }

    async fn score(&self, prompt: &Prompt, rec: &mut ItemRecord) -> Result<(), Failure> {
        let (ctx_text, _) = split_trailing_space(&prompt.context, "");
        let ctx = self.encode_context(&ctx_text);
        if ctx.is_empty() {
            return Err("the prompt encodes to no tokens".into());
        }
        let conts: Vec<Vec<u32>> = prompt
            .continuations
            .iter()
            .map(|c| {
                let (ctx_s, cont_s) = split_trailing_space(&prompt.context, c);
                let whole = self.encode_context(&format!("{ctx_s}{cont_s}"));
                whole
                    .get(ctx.len()..)
                    .map(<[u32]>::to_vec)
                    .unwrap_or_default()
            })
            .collect();
        if let Some(i) = conts.iter().position(Vec::is_empty) {
            return Err(Failure::Item(format!(
                "option {} (`{}`) encodes to no tokens after the prompt",
                i, prompt.continuations[i]
            )));
        }
        rec.prompt_tokens = ctx.len();
        let scores: Vec<f64> = if self.naive {
            rec.extra_tokens = conts.iter().map(|c| ctx.len() + c.len()).sum();
            let mut scores = Vec::with_capacity(conts.len());
            for c in &conts {
                scores.push(self.model.score_naive_async(&ctx, c).await?.iter().sum());
            }
            scores
        } else {
            match self.cfg.method {
                Method::Letter => {
                    // The letter is scored where the options first differ. Tokens every option's
                    // continuation starts with (the newline a chat template ends with, moved into the
                    // continuation by lm-eval's whitespace rule) are part of the context: scoring the
                    // first continuation token would score that shared newline, the same for every
                    // option (a uniform distribution and always "A").
                    let shared = shared_prefix_len(&conts);
                    let mut letter_ctx = ctx.clone();
                    letter_ctx.extend_from_slice(&conts[0][..shared]);
                    rec.prompt_tokens = letter_ctx.len();
                    rec.extra_tokens = 0;
                    if conts.iter().any(|c| c.len() <= shared) {
                        return Err("two options encode to the same tokens after the prompt; use --method loglik".into());
                    }
                    let prefix = self.model.prefix_async(&letter_ctx).await?;
                    conts
                        .iter()
                        .map(|c| bedside_model::scoring::log_prob(&prefix.last_logits, c[shared]))
                        .collect()
                }
                _ => {
                    let prefix = self.model.prefix_async(&ctx).await?;
                    rec.extra_tokens = conts.iter().map(|c| c.len() - 1).sum();
                    let mut scores = Vec::with_capacity(conts.len());
                    for c in &conts {
                        let lp = self.model.score_continuation_async(&prefix, c).await?;
                        scores.push(lp.iter().sum());
                    }
                    scores
                }
            }
        };
        if scores.iter().any(|s| !s.is_finite()) {
            return Err("the model produced a non-finite score".into());
        }
        rec.pred = first_max(&scores);
        rec.probs = Some(softmax(&scores));
        rec.correct = rec.pred.is_some() && rec.pred == rec.gold;
        if self.cfg.method == Method::Loglik {
            let norm: Vec<f64> = scores
                .iter()
                .zip(&prompt.choices)
                .map(|(s, c)| s / c.chars().count().max(1) as f64)
                .collect();
            rec.pred_norm = first_max(&norm);
            rec.correct_norm = Some(rec.pred_norm.is_some() && rec.pred_norm == rec.gold);
            rec.norm_scores = norm;
        }
        rec.scores = scores;
        rec.status = Status::Scored;
        Ok(())
    }

    async fn generate(
        &self,
        item: &Item,
        prompt: &Prompt,
        rec: &mut ItemRecord,
    ) -> Result<(), Failure> {
        let ctx = self.encode_context(&prompt.context);
        rec.prompt_tokens = ctx.len();
        let stops: &[&str] = if self.cfg.cot {
            &["Question:"]
        } else {
            &["\n\n", "Question:"]
        };
        let prefix = self.model.prefix_async(&ctx).await?;
        let samples = self.cfg.samples.max(1);
        let mut votes = vec![0usize; rec.options];
        // mcq_multi: each distinct set chosen, with its count.
        let mut sets: Vec<(Vec<usize>, usize)> = Vec::new();
        let mut values: Vec<f64> = Vec::new();
        let mut rules = Vec::new();
        let mut seed = self.cfg.seed;
        for b in rec.id.bytes() {
            seed = bedside_bench::metrics::rng::splitmix64(seed ^ b as u64);
        }
        for s in 0..samples {
            let mut state = Prefix {
                cache: prefix.cache.fork(),
                last_logits: prefix.last_logits.clone(),
            };
            let mut rng = SplitMix::new(bedside_bench::metrics::rng::splitmix64(seed ^ s as u64));
            let mut out: Vec<u32> = Vec::new();
            let mut text = String::new();
            for _ in 0..self.cfg.max_tokens {
                let next = if self.cfg.temperature <= 0.0 {
                    argmax(&state.last_logits)
                } else {
                    sample(
                        &state.last_logits,
                        self.cfg.temperature,
                        self.cfg.top_p,
                        &mut rng,
                    )
                };
                if self.model.tokenizer.stop_tokens.contains(&next) {
                    break;
                }
                out.push(next);
                text = self.model.tokenizer.decode(&out, false);
                if cut_at_stop(&text, stops).1 {
                    break;
                }
                self.model.step_async(&mut state, next).await?;
            }
            rec.extra_tokens += out.len();
            let answer = cut_at_stop(&text, stops).0.to_string();
            if !rec.gold_set.is_empty() {
                if let Some((set, rule)) = extract_choices(&answer, rec.options) {
                    match sets.iter_mut().find(|(s, _)| *s == set) {
                        Some((_, n)) => *n += 1,
                        None => sets.push((set, 1)),
                    }
                    rules.push(rule);
                }
                rec.outputs.push(answer);
                continue;
            }
            let got = if rec.options > 0 {
                extract_choice(&answer, &item.options)
            } else {
                extract_number(&answer)
            };
            if let Some(e) = got {
                if let Some(i) = e.index {
                    votes[i] += 1;
                }
                if let Some(v) = e.value {
                    values.push(v);
                }
                rules.push(e.rule);
            }
            rec.outputs.push(answer);
        }
        if !rec.gold_set.is_empty() {
            // The set chosen most often over the samples (the first such on ties).
            let Some(best) = sets.iter().map(|(_, n)| *n).max() else {
                rec.status = Status::Unextractable;
                return Ok(());
            };
            rec.pred_set = sets.iter().find(|(_, n)| *n == best).unwrap().0.clone();
            rec.correct = rec.pred_set == rec.gold_set;
        } else if rec.options > 0 {
            let total: usize = votes.iter().sum();
            if total == 0 {
                rec.status = Status::Unextractable;
                return Ok(());
            }
            let best = *votes.iter().max().unwrap();
            rec.pred = votes.iter().position(|&v| v == best);
            if samples > 1 {
                rec.probs = Some(votes.iter().map(|&v| v as f64 / total as f64).collect());
            }
            rec.correct = rec.pred == rec.gold;
        } else {
            if values.is_empty() {
                rec.status = Status::Unextractable;
                return Ok(());
            }
            // Majority over samples: the most frequent value (first seen on ties).
            let v = *values
                .iter()
                .max_by_key(|&&x| {
                    (
                        values.iter().filter(|&&y| y == x).count(),
                        usize::MAX - values.iter().position(|&y| y == x).unwrap(),
                    )
                })
                .unwrap();
            rec.pred_value = Some(v);
            rec.correct = item.answer.accepts_number(v);
        }
        rec.rule = rules.first().cloned();
        rec.status = Status::Extracted;
        Ok(())
    }
}

/// Progress of a run, reported after every item.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// Items finished in this run file (including ones from earlier sessions).
    pub done: usize,
    pub total: usize,
    /// Items evaluated in this session, and the time they took.
    pub session_done: usize,
    pub session_ms: f64,
    pub correct: usize,
    pub answered: usize,
}

impl Progress {
    pub fn items_per_s(&self) -> f64 {
        if self.session_ms > 0.0 {
            self.session_done as f64 / (self.session_ms / 1000.0)
        } else {
            0.0
        }
    }

    pub fn eta_s(&self) -> f64 {
        let r = self.items_per_s();
        if r > 0.0 {
            (self.total - self.done) as f64 / r
        } else {
            f64::NAN
        }
    }

    pub fn accuracy(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.correct as f64 / self.answered as f64)
    }
}

/// Where a run stands: which planned items are left (those not among the earlier records) and its
/// progress. The CLI's [`run`] loop and the browser worker both step through a plan with it; the
/// worker's pool hands items out to several workers and gives back those of a worker it lost.
#[derive(Debug, Clone)]
pub struct RunState {
    done_ids: HashSet<String>,
    next: usize,
    /// Items handed out and given back (their worker failed), smallest plan index first.
    retry: std::collections::BTreeSet<usize>,
    pub progress: Progress,
}

impl RunState {
    /// Start from the records of earlier sessions (resume); records of items outside the plan are ignored.
    pub fn new(plan: &Plan, previous: &[ItemRecord]) -> RunState {
        let in_plan: HashSet<&str> = plan.items.iter().map(|p| p.item.id.as_str()).collect();
        let mut state = RunState {
            done_ids: HashSet::new(),
            next: 0,
            retry: Default::default(),
            progress: Progress {
                total: plan.items.len(),
                ..Default::default()
            },
        };
        for r in previous.iter().filter(|r| in_plan.contains(r.id.as_str())) {
            state.done_ids.insert(r.id.clone());
            state.progress.done += 1;
            state.progress.answered += r.answered() as usize;
            state.progress.correct += r.correct as usize;
        }
        state
    }

    /// The next item to evaluate, skipping finished ones; `None` when every item is finished or
    /// handed out.
    pub fn next_item<'p>(&mut self, plan: &'p Plan) -> Option<&'p PlannedItem> {
        self.next_index(plan).map(|i| &plan.items[i])
    }

    /// [`next_item`](Self::next_item) as its index in `plan.items`: items given back come first.
    pub fn next_index(&mut self, plan: &Plan) -> Option<usize> {
        while let Some(i) = self.retry.pop_first() {
            if !self.done_ids.contains(&plan.items[i].item.id) {
                return Some(i);
            }
        }
        while self.next < plan.items.len() && self.done_ids.contains(&plan.items[self.next].item.id)
        {
            self.next += 1;
        }
        if self.next >= plan.items.len() {
            return None;
        }
        let i = self.next;
        self.next += 1;
        Some(i)
    }

    /// Hand out the item at plan index `i` again: it failed for a reason outside the item (a lost GPU,
    /// or the pool's worker it was given to is gone).
    pub fn retry(&mut self, i: usize) {
        self.retry.insert(i);
    }

    /// Count a finished item that took `ms` milliseconds (a pool passes the wall time since the
    /// previous finish, so the session's items/s and ETA are the run's, not one worker's). `false`, and
    /// nothing counted, when the item was already finished (a late or repeated record).
    pub fn finished(&mut self, rec: &ItemRecord, ms: f64) -> bool {
        if !self.done_ids.insert(rec.id.clone()) {
            return false;
        }
        self.progress.done += 1;
        self.progress.session_done += 1;
        self.progress.session_ms += ms;
        self.progress.answered += rec.answered() as usize;
        self.progress.correct += rec.correct as usize;
        true
    }
}

/// Evaluate every planned item not in `previous`, handing each record to `sink` as soon as it is finished
/// (the CLI appends it to the run file). `on_progress` returning `false` cancels after the current item.
/// Returns the number of items evaluated.
pub fn run<B: Backend>(
    ev: &Evaluator<B>,
    plan: &Plan,
    previous: &[ItemRecord],
    mut sink: impl FnMut(&ItemRecord) -> Result<(), String>,
    mut on_progress: impl FnMut(&Progress) -> bool,
) -> Result<usize, String> {
    let mut state = RunState::new(plan, previous);
    let mut evaluated = 0;
    while let Some(p) = state.next_item(plan) {
        let t0 = (ev.clock)();
        let rec = ev.evaluate(plan, p);
        sink(&rec)?;
        evaluated += 1;
        state.finished(&rec, (ev.clock)() - t0);
        if !on_progress(&state.progress) {
            break;
        }
    }
    Ok(evaluated)
}
