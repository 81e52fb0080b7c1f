//! MedQA (Jin et al., 2021, "What Disease does this Patient Have?"): JSONL with `question`,
//! `options` {"A": ..., "B": ...}, `answer_idx` (letter) and `answer` (the option text).

use super::{
    jsonl_objects, letter_index, split_for, str_field, unmapped, ImportOptions, Imported, InputFile,
};
use crate::item::{normalize_text, Item};
use crate::task::Task;
use crate::writer::BenchmarkInfo;
use serde_json::Value;

pub fn import(inputs: &[InputFile], opts: &ImportOptions) -> Result<Imported, String> {
    let mut info = BenchmarkInfo::new("medqa", Task::Mcq);
    info.description =
        "MedQA (USMLE, English): multiple-choice questions from US medical licensing exams".into();
    info.license = "MIT".into();
    info.citation = "Jin, D., Pan, E., Oufattole, N., Weng, W.-H., Fang, H., Szolovits, P. (2021). What Disease does this Patient Have? A Large-scale Open Domain Question Answering Dataset from Medical Exams. Applied Sciences 11(14):6421.".into();
    info.source = "https://github.com/jind11/MedQA".into();
    let mut out = Imported::new(info);
    for input in inputs {
        let split = split_for(input, opts);
        let rows = jsonl_objects(input, &mut out.skipped);
        for (line, obj) in rows {
            let Some(question) = str_field(&obj, "question") else {
                out.skipped.skip(&input.name, line, "missing question");
                continue;
            };
            let Some(Value::Object(opts_obj)) = obj.get("options") else {
                out.skipped.skip(
                    &input.name,
                    line,
                    "`options` is not an object of letter -> text",
                );
                continue;
            };
            let mut letters: Vec<(usize, String)> = Vec::new();
            let mut bad = false;
            for (k, v) in opts_obj {
                match (letter_index(k), v.as_str()) {
                    (Some(i), Some(t)) => letters.push((i, t.trim().to_string())),
                    _ => bad = true,
                }
            }
            letters.sort();
            if bad || letters.iter().enumerate().any(|(j, (i, _))| *i != j) {
                out.skipped.skip(
                    &input.name,
                    line,
                    "option keys are not consecutive letters A, B, C, ...",
                );
                continue;
            }
            let options: Vec<String> = letters.into_iter().map(|(_, t)| t).collect();
            let Some(answer) = obj
                .get("answer_idx")
                .and_then(Value::as_str)
                .and_then(letter_index)
            else {
                out.skipped
                    .skip(&input.name, line, "missing or non-letter `answer_idx`");
                continue;
            };
            if let (Some(text), Some(opt)) = (str_field(&obj, "answer"), options.get(answer)) {
                if normalize_text(&text) != normalize_text(opt) {
                    out.skipped.skip(
                        &input.name,
                        line,
                        "`answer` text disagrees with the option at `answer_idx`",
                    );
                    continue;
                }
            }
            let mut item = Item::choice(
                format!("{}-{line}", input.stem()),
                question,
                options,
                answer,
            );
            item.meta = unmapped(&obj, &["question", "options", "answer_idx", "answer"]);
            out.push(&split, item, &input.name, line);
        }
    }
    Ok(out)
}
