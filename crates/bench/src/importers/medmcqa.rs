//! MedMCQA (Pal et al., CHIL 2022). Two shapes are accepted, row by row:
//! - the original release: `id`, `question`, `opa`..`opd`, `cop` (correct option), `subject_name`,
//!   `topic_name`, `exp`, `choice_type`. `cop` is 1-based in the original JSON and 0-based in the
//!   Hugging Face copy; the importer reads the whole input first and decides (see the notes it prints).
//! - the stripped form: `question`, `choices` (4 strings prefixed "A. ".."D. "), `answer` (0-based).

use super::{jsonl_objects, split_for, str_field, unmapped, ImportOptions, Imported, InputFile};
use crate::item::Item;
use crate::task::Task;
use crate::writer::BenchmarkInfo;
use serde_json::{Map, Value};

const OPT_KEYS: [&str; 4] = ["opa", "opb", "opc", "opd"];

pub fn import(inputs: &[InputFile], opts: &ImportOptions) -> Result<Imported, String> {
    let mut info = BenchmarkInfo::new("medmcqa", Task::Mcq);
    info.description =
        "MedMCQA: multiple-choice questions from Indian medical entrance exams (AIIMS / NEET-PG)"
            .into();
    info.license = "MIT".into();
    info.citation = "Pal, A., Umapathi, L. K., Sankarasubbu, M. (2022). MedMCQA: A Large-scale Multi-Subject Multi-Choice Dataset for Medical domain Question Answering. Proceedings of the Conference on Health, Inference, and Learning (CHIL), PMLR 174:248-260.".into();
    info.source = "https://github.com/medmcqa/medmcqa".into();
    let mut out = Imported::new(info);

    let mut files = Vec::new();
    for input in inputs {
        files.push((input, jsonl_objects(input, &mut out.skipped)));
    }
    // Decide how `cop` is numbered from all rows at once.
    let cops: Vec<i64> = files
        .iter()
        .flat_map(|(_, rows)| {
            rows.iter()
                .filter_map(|(_, o)| o.get("cop").and_then(cop_value))
        })
        .collect();
    let detected = match (cops.contains(&0), cops.contains(&4)) {
        (false, true) => true,
        (true, false) => false,
        (true, true) => {
            out.notes.push("`cop` values include both 0 and 4: rows are read as 0-based and cop=4 rows are skipped".into());
            false
        }
        (false, false) => {
            if !cops.is_empty() {
                out.notes.push("`cop` never takes 0 or 4, so its numbering is ambiguous: read as 0-based (Hugging Face convention); pass --cop-base 1 for the original 1-based release".into());
            }
            false
        }
    };
    let one_based = match opts.cop_base {
        Some(base) => base == 1,
        None => detected,
    };
    if !cops.is_empty() {
        let how = if opts.cop_base.is_some() {
            "as told by --cop-base"
        } else {
            "detected"
        };
        out.notes.push(format!(
            "`cop` read as {}-based ({how})",
            if one_based { 1 } else { 0 }
        ));
    }

    for (input, rows) in files {
        let split = split_for(input, opts);
        for (line, obj) in rows {
            let item = if obj.contains_key("opa") {
                original(&obj, one_based, input, line)
            } else {
                stripped(&obj, input, line)
            };
            match item {
                Ok(item) => out.push(&split, item, &input.name, line),
                Err(reason) => out.skipped.skip(&input.name, line, reason),
            }
        }
    }
    Ok(out)
}

fn cop_value(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn original(
    obj: &Map<String, Value>,
    one_based: bool,
    input: &InputFile,
    line: usize,
) -> Result<Item, &'static str> {
    let question = str_field(obj, "question").ok_or("missing question")?;
    let options: Vec<String> = OPT_KEYS
        .iter()
        .map(|k| str_field(obj, k).unwrap_or_default())
        .collect();
    let cop = obj
        .get("cop")
        .and_then(cop_value)
        .ok_or("missing or non-integer `cop`")?;
    let answer = if one_based { cop - 1 } else { cop };
    if !(0..4).contains(&answer) {
        return Err("`cop` out of range");
    }
    let id = str_field(obj, "id").unwrap_or_else(|| format!("{}-{line}", input.stem()));
    let mut item = Item::choice(id, question, options, answer as usize);
    item.subject = str_field(obj, "subject_name");
    item.explanation = str_field(obj, "exp");
    item.meta = unmapped(
        obj,
        &[
            "id",
            "question",
            "opa",
            "opb",
            "opc",
            "opd",
            "cop",
            "subject_name",
            "exp",
        ],
    );
    Ok(item)
}

fn stripped(
    obj: &Map<String, Value>,
    input: &InputFile,
    line: usize,
) -> Result<Item, &'static str> {
    let question = str_field(obj, "question").ok_or("missing question")?;
    let choices = obj
        .get("choices")
        .and_then(Value::as_array)
        .ok_or("neither `opa`..`opd` nor a `choices` list")?;
    let raw: Vec<String> = choices
        .iter()
        .map(|c| c.as_str().unwrap_or_default().to_string())
        .collect();
    // Remove "A. " .. "D. " only when every option carries its own letter in order.
    let prefixed = raw.iter().enumerate().all(|(i, s)| {
        let letter = crate::task::option_letter(i);
        s.starts_with(&format!("{letter}. "))
            || s.starts_with(&format!("{letter}) "))
            || s == &format!("{letter}.")
    });
    let options: Vec<String> = if prefixed {
        raw.iter().map(|s| s[2..].trim().to_string()).collect()
    } else {
        raw
    };
    let answer = obj
        .get("answer")
        .and_then(Value::as_u64)
        .ok_or("missing or non-integer `answer`")?;
    let id = str_field(obj, "id").unwrap_or_else(|| format!("{}-{line}", input.stem()));
    let mut item = Item::choice(id, question, options, answer as usize);
    item.meta = unmapped(obj, &["id", "question", "choices", "answer"]);
    Ok(item)
}
