//! MMLU-Pro (Wang et al., NeurIPS 2024): JSONL with `question_id`, `question`, `options` (3-10 strings),
//! `answer` (letter), `answer_index`, `category`, `src`, `cot_content`.

use super::{
    jsonl_objects, letter_index, split_for, str_field, unmapped, ImportOptions, Imported, InputFile,
};
use crate::item::Item;
use crate::task::Task;
use crate::writer::BenchmarkInfo;
use serde_json::Value;

pub fn import(inputs: &[InputFile], opts: &ImportOptions) -> Result<Imported, String> {
    let mut info = BenchmarkInfo::new("mmlu-pro", Task::Mcq);
    info.description = "MMLU-Pro: harder, up to ten-option MMLU-style questions".into();
    info.license = "Apache-2.0".into();
    info.citation = "Wang, Y., Ma, X., Zhang, G., et al. (2024). MMLU-Pro: A More Robust and Challenging Multi-Task Language Understanding Benchmark. NeurIPS 2024 Datasets and Benchmarks.".into();
    info.source = "https://github.com/TIGER-AI-Lab/MMLU-Pro".into();
    let mut out = Imported::new(info);
    for input in inputs {
        let split = split_for(input, opts);
        let rows = jsonl_objects(input, &mut out.skipped);
        for (line, obj) in rows {
            let Some(question) = str_field(&obj, "question") else {
                out.skipped.skip(&input.name, line, "missing question");
                continue;
            };
            let Some(options) = obj.get("options").and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|o| o.as_str().unwrap_or_default().trim().to_string())
                    .collect::<Vec<_>>()
            }) else {
                out.skipped
                    .skip(&input.name, line, "missing `options` list");
                continue;
            };
            let by_index = obj
                .get("answer_index")
                .and_then(Value::as_u64)
                .map(|i| i as usize);
            let by_letter = obj
                .get("answer")
                .and_then(Value::as_str)
                .and_then(letter_index);
            let answer = match (by_index, by_letter) {
                (Some(i), Some(l)) if i != l => {
                    out.skipped.skip(
                        &input.name,
                        line,
                        "`answer` letter disagrees with `answer_index`",
                    );
                    continue;
                }
                (Some(i), _) | (None, Some(i)) => i,
                (None, None) => {
                    out.skipped.skip(&input.name, line, "missing answer");
                    continue;
                }
            };
            let id = match obj.get("question_id") {
                Some(Value::Number(n)) => format!("mmlu-pro-{n}"),
                Some(Value::String(s)) => s.clone(),
                _ => format!("{}-{line}", input.stem()),
            };
            let mut item = Item::choice(id, question, options, answer);
            item.subject = str_field(&obj, "category");
            item.meta = unmapped(
                &obj,
                &[
                    "question_id",
                    "question",
                    "options",
                    "answer",
                    "answer_index",
                    "category",
                ],
            );
            out.push(&split, item, &input.name, line);
        }
    }
    Ok(out)
}
