//! PubMedQA PQA-L (Jin et al., EMNLP 2019): `ori_pqal.json`, a JSON object keyed by PMID whose values hold
//! `QUESTION`, `CONTEXTS` (abstract sections), `LABELS`, `MESHES`, `YEAR`, `LONG_ANSWER` and
//! `final_decision` (yes/no/maybe). A second input shaped `{PMID: "yes"|...}` (`test_ground_truth.json`)
//! marks the standard test split; the other labelled items then go to `train`.

use super::{split_for, str_field, unmapped, ImportOptions, Imported, InputFile};
use crate::item::Item;
use crate::task::{Task, YES_NO_MAYBE};
use crate::writer::BenchmarkInfo;
use serde_json::{Map, Value};
use std::collections::HashSet;

pub fn import(inputs: &[InputFile], opts: &ImportOptions) -> Result<Imported, String> {
    let mut info = BenchmarkInfo::new("pubmedqa", Task::YesNoMaybe);
    info.description = "PubMedQA PQA-L: expert-labelled yes/no/maybe research questions answered from PubMed abstracts".into();
    info.license = "MIT".into();
    info.citation = "Jin, Q., Dhingra, B., Liu, Z., Cohen, W. W., Lu, X. (2019). PubMedQA: A Dataset for Biomedical Research Question Answering. EMNLP-IJCNLP 2019, 2567-2577.".into();
    info.source = "https://github.com/pubmedqa/pubmedqa".into();
    let mut out = Imported::new(info);

    let mut data = Vec::new();
    let mut test_ids: Option<HashSet<String>> = None;
    for input in inputs {
        let v: Value =
            serde_json::from_slice(crate::manifest::strip_bom(&input.bytes)).map_err(|e| {
                format!(
                    "{}: not a PubMedQA JSON file (line {}: {e})",
                    input.name,
                    e.line()
                )
            })?;
        let Value::Object(obj) = v else {
            return Err(format!(
                "{}: expected a JSON object keyed by PMID",
                input.name
            ));
        };
        if obj.values().all(Value::is_string) {
            test_ids
                .get_or_insert_with(HashSet::new)
                .extend(obj.keys().cloned());
            out.notes.push(format!(
                "{}: {} PMIDs mark the test split",
                input.name,
                obj.len()
            ));
        } else {
            data.push((input, obj));
        }
    }
    if data.is_empty() {
        return Err("no PubMedQA data file (ori_pqal.json) among the inputs".into());
    }
    for (input, obj) in data {
        for (n, (pmid, rec)) in obj.iter().enumerate() {
            let line = n + 1; // position of the record in the file's object
            let Value::Object(rec) = rec else {
                out.skipped
                    .skip(&input.name, line, "record is not an object");
                continue;
            };
            match item(pmid, rec) {
                Ok(item) => {
                    let split = match (&opts.split, &test_ids) {
                        (Some(s), _) => s.clone(),
                        (None, Some(t)) => {
                            if t.contains(pmid) { "test" } else { "train" }.to_string()
                        }
                        (None, None) => split_for(input, opts),
                    };
                    out.push(&split, item, &input.name, line);
                }
                Err(reason) => out.skipped.skip(&input.name, line, reason),
            }
        }
    }
    Ok(out)
}

fn item(pmid: &str, rec: &Map<String, Value>) -> Result<Item, &'static str> {
    let question = str_field(rec, "QUESTION").ok_or("missing QUESTION")?;
    let contexts: Vec<&str> = rec
        .get("CONTEXTS")
        .and_then(Value::as_array)
        .ok_or("missing CONTEXTS list")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let decision = str_field(rec, "final_decision").ok_or("missing final_decision")?;
    let answer = YES_NO_MAYBE
        .iter()
        .position(|d| d.eq_ignore_ascii_case(&decision))
        .ok_or("final_decision is not yes/no/maybe")?;
    let mut item = Item::choice(
        pmid,
        question,
        YES_NO_MAYBE.iter().map(|s| s.to_string()).collect(),
        answer,
    );
    item.context = Some(contexts.join("\n"));
    item.explanation = str_field(rec, "LONG_ANSWER");
    item.meta = unmapped(
        rec,
        &["QUESTION", "CONTEXTS", "final_decision", "LONG_ANSWER"],
    );
    Ok(item)
}
