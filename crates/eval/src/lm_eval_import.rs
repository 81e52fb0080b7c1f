//! Results made elsewhere: lm-evaluation-harness `--log_samples` files turned into a Bedside run file,
//! so a run of a large model on a server can be compared item by item with a small model run in a
//! browser tab (`bedside import-lm-eval`, then `bedside compare` or the app's Compare page).
//!
//! lm-eval's samples carry the dataset's document (`doc`), not Bedside's item ids, so each sample is
//! matched to a benchmark item by content: the question text (whitespace collapsed, case ignored), and the
//! option texts or the context where several items share a question. The options are kept in the order
//! lm-eval showed them (`presented`), the gold index is lm-eval's `target` in that order, and the gold
//! option's text must be the benchmark item's gold text: a sample that matches no item, or whose gold
//! differs, is an error naming the file, the line and the question, never silently skipped. Supported
//! tasks are the ones Bedside reproduces: `medqa_4options`, `medmcqa`, `pubmedqa` and `mmlu_*` (option
//! log-likelihoods, lm-eval's `multiple_choice`).

use crate::config::{BenchmarkRef, Method, ModelRef, RunConfig, RunSettings};
use crate::fewshot::FewshotSampler;
use crate::record::{ItemRecord, RunHeader, RUN_FORMAT};
use crate::template::Template;
use bedside_bench::benchmark::Benchmark;
use bedside_bench::item::normalize_text;
use serde_json::{json, Value};
use std::collections::HashMap;

/// What the samples files do not say.
#[derive(Debug, Clone)]
pub struct LmEvalImport {
    /// The model's name as it should appear in comparisons (lm-eval's samples do not carry it).
    pub model: String,
    /// The benchmark split the samples are of.
    pub split: String,
    /// Few-shot examples lm-eval used (`--num_fewshot`).
    pub shots: usize,
}

/// The document's question, options and context, by task.
struct Doc {
    question: String,
    options: Vec<String>,
    context: Option<String>,
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn template_of(task: &str) -> Result<Template, String> {
    Ok(match task {
        "medqa_4options" => Template::Medqa,
        "medmcqa" => Template::Medmcqa,
        "pubmedqa" => Template::Pubmedqa,
        t if t.starts_with("mmlu_") => Template::Mmlu,
        t => {
            return Err(format!(
                "task `{t}` is not one Bedside reproduces (medqa_4options, medmcqa, pubmedqa, mmlu_<subject>)"
            ))
        }
    })
}

fn doc_of(template: Template, doc: &Value) -> Option<Doc> {
    let s = |k: &str| doc.get(k).and_then(text);
    Some(match template {
        Template::Medqa => Doc {
            question: s("sent1")?,
            options: (0..4)
                .map(|i| s(&format!("ending{i}")))
                .collect::<Option<_>>()?,
            context: None,
        },
        Template::Medmcqa => Doc {
            question: s("question")?,
            options: ["opa", "opb", "opc", "opd"]
                .iter()
                .map(|k| s(k))
                .collect::<Option<_>>()?,
            context: None,
        },
        Template::Pubmedqa => Doc {
            question: s("QUESTION")?,
            options: vec!["yes".into(), "no".into(), "maybe".into()],
            context: doc.get("CONTEXTS").and_then(|c| match c {
                Value::Array(a) => Some(a.iter().filter_map(text).collect::<Vec<_>>().join("\n")),
                other => text(other),
            }),
        },
        _ => Doc {
            question: s("question")?,
            options: doc
                .get("choices")?
                .as_array()?
                .iter()
                .map(text)
                .collect::<Option<_>>()?,
            context: None,
        },
    })
}

/// The task of a samples file: from its `samples_<task>_<date>.jsonl` name, else `None`.
pub fn task_of_file(file: &str) -> Option<String> {
    let base = file.rsplit(['/', '\\']).next()?;
    let rest = base.strip_prefix("samples_")?.strip_suffix(".jsonl")?;
    // lm-eval appends `_<ISO date>` (2024-05-01T12-00-00.000000); a file renamed without it is fine.
    let task = match rest.rfind('_') {
        Some(i)
            if rest[i + 1..].len() >= 10
                && rest[i + 1..].chars().take(4).all(|c| c.is_ascii_digit()) =>
        {
            &rest[..i]
        }
        _ => rest,
    };
    Some(task.to_string())
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `filtered_resps` (or `resps`): one `[loglik, is_greedy]` per option, possibly wrapped once more.
fn logliks(sample: &Value) -> Option<Vec<f64>> {
    let r = sample
        .get("filtered_resps")
        .or_else(|| sample.get("resps"))?
        .as_array()?;
    r.iter()
        .map(|x| {
            let mut x = x;
            while let Some(a) = x.as_array() {
                x = a.first()?;
            }
            number(x)
        })
        .collect()
}

/// The context and each continuation lm-eval scored, from `arguments` (a list of `[context,
/// continuation]`, or the file form `{"gen_args_0": {"arg_0": ..., "arg_1": ...}, ...}`).
fn arguments(sample: &Value) -> Option<(String, Vec<String>)> {
    let pairs: Vec<(String, String)> = match sample.get("arguments")? {
        Value::Array(a) => a
            .iter()
            .map(|p| Some((text(p.get(0)?)?, text(p.get(1)?)?)))
            .collect::<Option<_>>()?,
        Value::Object(o) => {
            let mut keys: Vec<(usize, &Value)> = o
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("gen_args_")?.parse().ok()?, v)))
                .collect();
            keys.sort_by_key(|k| k.0);
            keys.iter()
                .map(|(_, v)| Some((text(v.get("arg_0")?)?, text(v.get("arg_1")?)?)))
                .collect::<Option<_>>()?
        }
        _ => return None,
    };
    let ctx = pairs.first()?.0.clone();
    Some((ctx, pairs.into_iter().map(|p| p.1).collect()))
}

fn softmax(x: &[f64]) -> Vec<f64> {
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.iter().map(|v| v / z).collect()
}

fn argmax(x: &[f64]) -> usize {
    (0..x.len()).fold(0, |b, i| if x[i] > x[b] { i } else { b })
}

fn snippet(s: &str) -> String {
    let t: String = s.chars().take(80).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}

/// Turn lm-eval samples files (`(file name, bytes)`, one per task) into a Bedside run of `bench`
/// (whose content hash is `bench_hash`). Refused, naming the first sample that does not match.
pub fn import(
    files: &[(String, Vec<u8>)],
    bench: &Benchmark,
    bench_hash: &str,
    opts: &LmEvalImport,
) -> Result<(RunHeader, Vec<ItemRecord>), String> {
    if files.is_empty() {
        return Err("no samples file given".into());
    }
    // Benchmark items of the split, by normalised question.
    let items: Vec<(
        usize,
        &bedside_bench::benchmark::Shard,
        &bedside_bench::item::Item,
    )> = bench
        .items_in_split(&opts.split)
        .enumerate()
        .map(|(i, (s, li))| (i, s, &li.item))
        .collect();
    if items.is_empty() {
        return Err(format!(
            "benchmark {} has no `{}` split",
            bench.manifest.name, opts.split
        ));
    }
    let mut by_question: HashMap<String, Vec<usize>> = HashMap::new();
    for (k, (_, _, it)) in items.iter().enumerate() {
        by_question
            .entry(normalize_text(&it.question))
            .or_default()
            .push(k);
    }
    let mut template: Option<Template> = None;
    let mut records: Vec<(usize, ItemRecord)> = Vec::new();
    let mut seen: HashMap<usize, String> = HashMap::new();
    for (file, bytes) in files {
        let task = task_of_file(file).ok_or_else(|| {
            format!("{file}: not an lm-eval samples file name (expected samples_<task>_<date>.jsonl, as `--log_samples` writes)")
        })?;
        let t = template_of(&task).map_err(|e| format!("{file}: {e}"))?;
        if template.is_some_and(|x| x != t) {
            return Err(format!(
                "{file}: task `{task}` uses another prompt format than the other files; import one benchmark's tasks together"
            ));
        }
        template = Some(t);
        let content = std::str::from_utf8(bytes).map_err(|_| format!("{file}: not UTF-8 text"))?;
        for (n, line) in content.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("{file} line {}", n + 1);
            let sample: Value = serde_json::from_str(line)
                .map_err(|e| format!("{at}: not JSON ({e}); is this an lm-eval samples file?"))?;
            let doc = sample
                .get("doc")
                .and_then(|d| doc_of(t, d))
                .ok_or_else(|| format!("{at}: no `doc` with the fields of task `{task}`"))?;
            let lls = logliks(&sample).ok_or_else(|| {
                format!(
                    "{at}: no `filtered_resps` log-likelihoods (was it a multiple-choice task?)"
                )
            })?;
            if lls.len() != doc.options.len() {
                return Err(format!(
                    "{at}: {} log-likelihoods for {} options",
                    lls.len(),
                    doc.options.len()
                ));
            }
            let gold = match sample.get("target") {
                Some(v) => match number(v) {
                    Some(x) if x.fract() == 0.0 && x >= 0.0 => Some(x as usize),
                    _ => text(v).and_then(|s| {
                        doc.options
                            .iter()
                            .position(|o| normalize_text(o) == normalize_text(&s))
                    }),
                },
                None => None,
            }
            .filter(|g| *g < doc.options.len())
            .ok_or_else(|| format!("{at}: its `target` is not one of the options"))?;
            // The benchmark item with this question (and these options or this context).
            let q = normalize_text(&doc.question);
            let cands = by_question.get(&q).cloned().unwrap_or_default();
            let norm_opts: Vec<String> = doc.options.iter().map(|o| normalize_text(o)).collect();
            let fits = |k: &usize| {
                let it = items[*k].2;
                let mut a: Vec<String> = it.options.iter().map(|o| normalize_text(o)).collect();
                let mut b = norm_opts.clone();
                a.sort();
                b.sort();
                a == b
                    && match (&doc.context, &it.context) {
                        (Some(x), Some(y)) => normalize_text(x) == normalize_text(y),
                        _ => true,
                    }
            };
            let matched: Vec<usize> = cands.iter().copied().filter(|k| fits(k)).collect();
            let k = match matched.as_slice() {
                [k] => *k,
                [] if cands.is_empty() => {
                    return Err(format!(
                        "{at} (doc_id {}): no item of {} ({} split) has the question \"{}\"; are these samples of the same benchmark and split?",
                        sample.get("doc_id").map(|d| d.to_string()).unwrap_or_default(),
                        bench.manifest.name,
                        opts.split,
                        snippet(&doc.question)
                    ))
                }
                [] => {
                    return Err(format!(
                        "{at} (doc_id {}): the item with the question \"{}\" has other options (or another context) in {}: the sample's options are {:?}",
                        sample.get("doc_id").map(|d| d.to_string()).unwrap_or_default(),
                        snippet(&doc.question),
                        bench.manifest.name,
                        doc.options
                    ))
                }
                _ => {
                    return Err(format!(
                        "{at}: {} items of {} have the same question, options and context as this sample (\"{}\"); they cannot be told apart",
                        matched.len(),
                        bench.manifest.name,
                        snippet(&doc.question)
                    ))
                }
            };
            let (pos, shard, item) = items[k];
            let item_gold = item.answer.index().and_then(|g| item.options.get(g));
            if item_gold.map(|g| normalize_text(g)) != Some(norm_opts[gold].clone()) {
                return Err(format!(
                    "{at}: lm-eval's gold answer \"{}\" is not the benchmark's (\"{}\") for item {}",
                    doc.options[gold],
                    item_gold.cloned().unwrap_or_default(),
                    item.id
                ));
            }
            if let Some(prev) = seen.insert(k, at.clone()) {
                return Err(format!(
                    "{at}: item {} was already imported from {prev}; import each task's samples once",
                    item.id
                ));
            }
            let (prompt, conts) = arguments(&sample).unwrap_or_default();
            let norm: Vec<f64> = lls
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let n = conts.get(i).map(|c| c.chars().count()).unwrap_or(1).max(1);
                    l / n as f64
                })
                .collect();
            let pred = argmax(&lls);
            let pred_norm = argmax(&norm);
            let probs = softmax(&lls);
            let rec = json!({
                "index": pos, "id": item.id, "shard": shard.entry.file, "subject": item.subject,
                "prompt_hash": "", "options": doc.options.len(), "scores": lls, "norm_scores": norm,
                "probs": probs, "pred": pred, "pred_norm": pred_norm, "gold": gold,
                "correct": pred == gold, "correct_norm": pred_norm == gold, "status": "scored",
                "prompt_tokens": 0, "extra_tokens": 0, "latency_ms": 0.0,
                "presented": doc.options, "prompt": prompt,
            });
            let rec: ItemRecord = serde_json::from_value(rec).map_err(|e| format!("{at}: {e}"))?;
            // lm-eval's own verdict must be the same as ours from its numbers.
            if let Some(acc) = sample.get("acc").and_then(number) {
                if (acc >= 0.5) != rec.correct {
                    return Err(format!(
                        "{at}: lm-eval scored it acc={acc} but its log-likelihoods pick option {pred} against gold {gold}; the file looks edited"
                    ));
                }
            }
            records.push((pos, rec));
        }
    }
    records.sort_by_key(|r| r.0);
    let template = template.expect("at least one file");
    let defaults = RunSettings::default();
    let config = RunConfig {
        model: ModelRef {
            name: opts.model.clone(),
            file: "lm-evaluation-harness samples".into(),
            sha256: format!("lm-eval:{}", opts.model),
        },
        benchmark: BenchmarkRef {
            name: bench.manifest.name.clone(),
            hash: bench_hash.to_string(),
            split: opts.split.clone(),
        },
        template,
        method: Method::Loglik,
        shots: opts.shots,
        fewshot: FewshotSampler::FirstN,
        chat: false,
        cot: false,
        samples: 1,
        temperature: 0.0,
        top_p: defaults.top_p,
        max_tokens: 0,
        seed: 0,
        probes: Vec::new(),
    };
    let header = RunHeader {
        bedside_run: RUN_FORMAT,
        bedside_version: env!("CARGO_PKG_VERSION").into(),
        config_hash: config.hash(),
        config,
        slice: None,
        planned_items: records.len(),
        backend: "lm-evaluation-harness (imported samples)".into(),
        merged_from: files.iter().map(|f| f.0.clone()).collect(),
    };
    Ok((header, records.into_iter().map(|r| r.1).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bedside_bench::{validate, BenchmarkFiles, ValidateOptions};

    fn bench() -> (Benchmark, String) {
        let shard = concat!(
            r#"{"id":"q1","question":"Which bone is in the arm?","options":["Femur","Humerus","Tibia","Fibula"],"answer":1,"subject":"anatomy"}"#,
            "\n",
            r#"{"id":"q2","question":"Which organ pumps blood?","options":["Liver","Lung","Heart","Kidney"],"answer":2,"subject":"anatomy"}"#,
            "\n",
            r#"{"id":"q3","question":"Which organ pumps blood?","options":["Heart","Brain","Skin","Bone"],"answer":0,"subject":"anatomy"}"#,
            "\n",
        );
        let manifest = format!(
            r#"{{"name":"mini-mmlu","version":"1","description":"d","license":"MIT","citation":"c","source":"s","language":"en","task":"mcq","shards":[{{"file":"test-000.jsonl","split":"test","items":3,"sha256":"{}"}}]}}"#,
            bedside_bench::hash::sha256_hex(shard.as_bytes())
        );
        let manifest = manifest.as_bytes();
        let mut files = BenchmarkFiles {
            manifest: Some(manifest.to_vec()),
            ..Default::default()
        };
        files
            .shards
            .insert("test-000.jsonl".into(), shard.as_bytes().to_vec());
        let (b, problems, _) = validate(&files, &ValidateOptions::default());
        (
            b.unwrap_or_else(|| panic!("{problems}")),
            files.content_hash(),
        )
    }

    /// One line as lm-eval 0.4 writes it: arguments as `gen_args_k`, responses as strings.
    fn line(q: &str, choices: &[&str], target: usize, lls: &[f64]) -> String {
        let args: serde_json::Map<String, Value> = choices
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    format!("gen_args_{i}"),
                    json!({"arg_0": format!("{q}\nAnswer:"), "arg_1": format!(" {c}")}),
                )
            })
            .collect();
        let best = argmax(lls);
        json!({"doc_id": 0, "doc": {"question": q, "choices": choices, "answer": target, "subject": "anatomy"},
               "target": target, "arguments": args,
               "resps": lls.iter().map(|l| vec![vec![l.to_string(), "False".to_string()]]).collect::<Vec<_>>(),
               "filtered_resps": lls.iter().map(|l| vec![l.to_string(), "False".to_string()]).collect::<Vec<_>>(),
               "filter": "none", "metrics": ["acc", "acc_norm"],
               "acc": if best == target { 1.0 } else { 0.0 }})
        .to_string()
    }

    fn opts() -> LmEvalImport {
        LmEvalImport {
            model: "big".into(),
            split: "test".into(),
            shots: 0,
        }
    }

    #[test]
    fn samples_are_matched_by_question_and_options_in_lm_evals_order() {
        let (b, hash) = bench();
        // q3 shares q2's question; its options tell them apart. Options shown in another order.
        let text = [
            line(
                "Which organ pumps blood?",
                &["Skin", "Heart", "Brain", "Bone"],
                1,
                &[-3.0, -1.0, -2.0, -4.0],
            ),
            line(
                "which bone is in  the arm?",
                &["Femur", "Humerus", "Tibia", "Fibula"],
                1,
                &[-1.0, -2.0, -3.0, -4.0],
            ),
        ]
        .join("\n");
        let file = "out/samples_mmlu_anatomy_2026-12-01T10-11-12.123456.jsonl".to_string();
        let (h, recs) = import(&[(file.clone(), text.into_bytes())], &b, &hash, &opts()).unwrap();
        assert_eq!(h.config.benchmark.hash, hash);
        assert_eq!(h.config.template, Template::Mmlu);
        assert_eq!(h.merged_from, vec![file]);
        // In benchmark order: q1 then q3.
        assert_eq!(
            recs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["q1", "q3"]
        );
        assert_eq!(recs[1].presented, ["Skin", "Heart", "Brain", "Bone"]);
        assert_eq!(
            (recs[1].gold, recs[1].pred, recs[1].correct),
            (Some(1), Some(1), true)
        );
        assert_eq!((recs[0].pred, recs[0].correct), (Some(0), false));
        let p = recs[1].probs.as_ref().unwrap();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12 && p[1] > p[2]);
        assert_eq!(recs[1].prompt, "Which organ pumps blood?\nAnswer:");
    }

    #[test]
    fn mismatches_are_refused_with_the_line() {
        let (b, hash) = bench();
        let f = "samples_mmlu_anatomy.jsonl".to_string();
        let bad_gold = line(
            "Which bone is in the arm?",
            &["Femur", "Humerus", "Tibia", "Fibula"],
            2,
            &[-1.0, -2.0, -3.0, -4.0],
        );
        let e = import(&[(f.clone(), bad_gold.into_bytes())], &b, &hash, &opts()).unwrap_err();
        assert!(
            e.contains("line 1") && e.contains("\"Tibia\"") && e.contains("q1"),
            "{e}"
        );
        let other_opts = line(
            "Which bone is in the arm?",
            &["A", "B", "C", "D"],
            0,
            &[-1.0, -2.0, -3.0, -4.0],
        );
        let e = import(&[(f.clone(), other_opts.into_bytes())], &b, &hash, &opts()).unwrap_err();
        assert!(e.contains("other options"), "{e}");
        let mut edited: Value = serde_json::from_str(&line(
            "Which bone is in the arm?",
            &["Femur", "Humerus", "Tibia", "Fibula"],
            1,
            &[-1.0, -2.0, -3.0, -4.0],
        ))
        .unwrap();
        edited["acc"] = json!(1.0);
        let e = import(
            &[(f.clone(), edited.to_string().into_bytes())],
            &b,
            &hash,
            &opts(),
        )
        .unwrap_err();
        assert!(e.contains("looks edited"), "{e}");
        let e = import(
            &[("results.json".into(), b"{}".to_vec())],
            &b,
            &hash,
            &opts(),
        )
        .unwrap_err();
        assert!(e.contains("not an lm-eval samples file name"), "{e}");
        let e = import(&[(f, b"not json\n".to_vec())], &b, &hash, &opts()).unwrap_err();
        assert!(e.contains("line 1: not JSON"), "{e}");
    }
}
