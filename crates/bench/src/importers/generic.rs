//! Generic CSV (with a header row) and JSONL importers, driven by `--map field=column`.
//!
//! Fields: `id`, `question`, `options` (one column holding a list, or several columns `options=a,b,c,d`),
//! `answer`, `context`, `subject`, `explanation`, and for numeric tasks `tolerance` or `low`+`high`.
//! Unmapped fields fall back to a column of the same name (and `choices` for `options`). Columns that are
//! not mapped go to `meta`.

use super::mmlu_redux::parse_py_list;
use super::{jsonl_objects, letter_index, split_for, unmapped, ImportOptions, Imported, InputFile};
use crate::item::{normalize_text, Acceptance, Answer, Item};
use crate::task::{Task, YES_NO_MAYBE};
use crate::writer::BenchmarkInfo;
use serde_json::{Map, Value};
use std::str::FromStr;

/// How the answer column is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AnswerFormat {
    /// A letter (A..J), a 0-based integer, or the text of an option.
    #[default]
    Auto,
    Letter,
    Index0,
    Index1,
    Text,
}

impl std::fmt::Display for AnswerFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AnswerFormat::Auto => "a letter, a 0-based index or option text",
            AnswerFormat::Letter => "a letter",
            AnswerFormat::Index0 => "a 0-based index",
            AnswerFormat::Index1 => "a 1-based index",
            AnswerFormat::Text => "the text of an option",
        })
    }
}

impl FromStr for AnswerFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "auto" => AnswerFormat::Auto,
            "letter" => AnswerFormat::Letter,
            "index0" | "index" => AnswerFormat::Index0,
            "index1" => AnswerFormat::Index1,
            "text" => AnswerFormat::Text,
            _ => {
                return Err(format!(
                    "unknown answer format `{s}`; expected auto, letter, index0, index1 or text"
                ))
            }
        })
    }
}

pub const MAP_FIELDS: [&str; 10] = [
    "id",
    "question",
    "options",
    "answer",
    "context",
    "subject",
    "explanation",
    "tolerance",
    "low",
    "high",
];

/// Which source column feeds which item field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldMap {
    pub columns: Vec<(String, Vec<String>)>,
    pub answer_format: AnswerFormat,
}

impl FieldMap {
    /// Parse `field=column` (or `options=col1,col2,...`) pairs.
    pub fn parse(pairs: &[String], answer_format: AnswerFormat) -> Result<FieldMap, String> {
        let mut columns: Vec<(String, Vec<String>)> = Vec::new();
        for p in pairs {
            let (f, c) = p
                .split_once('=')
                .ok_or_else(|| format!("--map {p:?}: expected field=column, e.g. question=stem"))?;
            let f = f.trim();
            if !MAP_FIELDS.contains(&f) {
                return Err(format!(
                    "--map {p:?}: unknown field `{f}`; expected one of {}",
                    MAP_FIELDS.join(", ")
                ));
            }
            let cols: Vec<String> = c
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            if cols.is_empty() || (cols.len() > 1 && f != "options") {
                return Err(format!(
                    "--map {p:?}: give one column (only `options` takes a comma-separated list)"
                ));
            }
            columns.retain(|(x, _)| x != f);
            columns.push((f.to_string(), cols));
        }
        Ok(FieldMap {
            columns,
            answer_format,
        })
    }

    /// The columns for `field`: the mapped ones, or same-named defaults present in the row.
    fn cols(&self, field: &str, row: &Map<String, Value>) -> Vec<String> {
        if let Some((_, c)) = self.columns.iter().find(|(f, _)| f == field) {
            return c.clone();
        }
        let defaults: &[&str] = match field {
            "options" => &["options", "choices"],
            "answer" => &["answer", "answer_idx", "label"],
            f => {
                return if row.contains_key(f) {
                    vec![f.to_string()]
                } else {
                    vec![]
                }
            }
        };
        defaults
            .iter()
            .find(|d| row.contains_key(**d))
            .map(|d| vec![d.to_string()])
            .unwrap_or_default()
    }
}

fn info(task: Task, inputs: &[InputFile]) -> BenchmarkInfo {
    BenchmarkInfo::new(inputs[0].stem(), task)
}

pub fn import_csv(inputs: &[InputFile], opts: &ImportOptions) -> Result<Imported, String> {
    let task = opts.task.unwrap_or(Task::Mcq);
    let mut out = Imported::new(info(task, inputs));
    for input in inputs {
        let split = split_for(input, opts);
        let delimiter = if input.name.ends_with(".tsv") {
            b'\t'
        } else {
            b','
        };
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(crate::manifest::strip_bom(&input.bytes));
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| format!("{}: cannot read the CSV header row: {e}", input.name))?
            .iter()
            .map(str::to_string)
            .collect();
        for (row, rec) in rdr.records().enumerate() {
            let row = row + 1;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    out.skipped.skip(
                        &input.name,
                        e.position().map_or(0, |p| p.line() as usize),
                        "unreadable CSV row",
                    );
                    continue;
                }
            };
            let line = rec.position().map_or(0, |p| p.line() as usize);
            let fields: Map<String, Value> = header
                .iter()
                .cloned()
                .zip(rec.iter().map(|v| Value::String(v.to_string())))
                .collect();
            match row_to_item(&fields, &opts.map, task, input, row) {
                Ok(item) => out.push(&split, item, &input.name, line),
                Err(reason) => out.skipped.skip(&input.name, line, &reason),
            }
        }
    }
    Ok(out)
}

pub fn import_jsonl(inputs: &[InputFile], opts: &ImportOptions) -> Result<Imported, String> {
    let task = opts.task.unwrap_or(Task::Mcq);
    let mut out = Imported::new(info(task, inputs));
    for input in inputs {
        let split = split_for(input, opts);
        let rows = jsonl_objects(input, &mut out.skipped);
        for (line, row) in rows {
            match row_to_item(&row, &opts.map, task, input, line) {
                Ok(item) => out.push(&split, item, &input.name, line),
                Err(reason) => out.skipped.skip(&input.name, line, &reason),
            }
        }
    }
    Ok(out)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// `row` numbers the record in its file (1-based) and makes the default id `<file stem>-<row>`.
fn row_to_item(
    row: &Map<String, Value>,
    map: &FieldMap,
    task: Task,
    input: &InputFile,
    row_number: usize,
) -> Result<Item, String> {
    let mut used: Vec<String> = Vec::new();
    let mut one = |field: &str| -> Result<Option<&Value>, String> {
        let cols = map.cols(field, row);
        match cols.first() {
            None => Ok(None),
            Some(c) => {
                used.extend(cols.iter().cloned());
                match row.get(c) {
                    Some(v) => Ok(Some(v)),
                    None if map.columns.iter().any(|(f, _)| f == field) => {
                        Err(format!("mapped column `{c}` (for {field}) is missing"))
                    }
                    None => Ok(None),
                }
            }
        }
    };
    let question = one("question")?
        .and_then(text)
        .filter(|s| !s.is_empty())
        .ok_or("no question (map it with --map question=<column>)")?;
    let id = one("id")?
        .and_then(text)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{}-{row_number}", input.stem()));
    let context = one("context")?.and_then(text).filter(|s| !s.is_empty());
    let subject = one("subject")?.and_then(text).filter(|s| !s.is_empty());
    let explanation = one("explanation")?.and_then(text).filter(|s| !s.is_empty());
    let answer_raw = one("answer")?
        .cloned()
        .ok_or("no answer (map it with --map answer=<column>)")?;

    let (options, answer) = match task {
        Task::Numeric => {
            let value = number(&answer_raw).ok_or("numeric answer is not a number")?;
            let tol = one("tolerance")?.and_then(number);
            let low = one("low")?.and_then(number);
            let high = one("high")?.and_then(number);
            let accept = match (tol, low, high) {
                (Some(t), None, None) => Acceptance::Tolerance(t),
                (None, Some(l), Some(h)) => Acceptance::Range(l, h),
                _ => return Err("numeric item needs a tolerance column or low+high columns (--map tolerance=... or low=... high=...)".into()),
            };
            (Vec::new(), Answer::Numeric { value, accept })
        }
        _ => {
            let option_cols = map.cols("options", row);
            used.extend(option_cols.iter().cloned());
            let options: Vec<String> = if option_cols.is_empty() && task == Task::YesNoMaybe {
                YES_NO_MAYBE.iter().map(|s| s.to_string()).collect()
            } else if option_cols.len() == 1 {
                match row.get(&option_cols[0]) {
                    Some(Value::Array(a)) => {
                        a.iter().map(|v| text(v).unwrap_or_default()).collect()
                    }
                    Some(Value::String(s)) => serde_json::from_str::<Vec<String>>(s)
                        .ok()
                        .or_else(|| parse_py_list(s))
                        .ok_or("options column is not a list")?,
                    _ => {
                        return Err(format!(
                            "options column `{}` is missing or not a list",
                            option_cols[0]
                        ))
                    }
                }
            } else if option_cols.is_empty() {
                return Err(
                    "no options (map them with --map options=<list column> or options=a,b,c,d)"
                        .into(),
                );
            } else {
                let mut v: Vec<String> = option_cols
                    .iter()
                    .map(|c| row.get(c).and_then(text).unwrap_or_default())
                    .collect();
                while v.last().is_some_and(String::is_empty) {
                    v.pop(); // items with fewer options than columns
                }
                v
            };
            let idx = resolve_answer(&answer_raw, &options, map.answer_format)?;
            (options, Answer::Index(idx))
        }
    };
    let mut item = Item {
        id,
        question,
        options,
        answer,
        context,
        subject,
        explanation,
        meta: Map::new(),
    };
    let used: Vec<&str> = used.iter().map(String::as_str).collect();
    item.meta = unmapped(row, &used);
    Ok(item)
}

fn resolve_answer(v: &Value, options: &[String], fmt: AnswerFormat) -> Result<usize, String> {
    let s = text(v).ok_or("answer is empty")?;
    let as_int = s.parse::<i64>().ok();
    let by_text = || {
        options
            .iter()
            .position(|o| normalize_text(o) == normalize_text(&s))
    };
    let r = match fmt {
        AnswerFormat::Letter => letter_index(&s),
        AnswerFormat::Index0 => as_int.filter(|i| *i >= 0).map(|i| i as usize),
        AnswerFormat::Index1 => as_int.filter(|i| *i >= 1).map(|i| i as usize - 1),
        AnswerFormat::Text => by_text(),
        AnswerFormat::Auto => by_text()
            .or_else(|| letter_index(&s))
            .or_else(|| as_int.filter(|i| *i >= 0).map(|i| i as usize)),
    };
    r.ok_or_else(|| format!("answer {s:?} is not {fmt}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_parsing_errors_are_clear() {
        assert!(FieldMap::parse(&["bogus=x".into()], AnswerFormat::Auto)
            .unwrap_err()
            .contains("unknown field `bogus`"));
        assert!(FieldMap::parse(&["question".into()], AnswerFormat::Auto)
            .unwrap_err()
            .contains("field=column"));
        assert!(FieldMap::parse(&["answer=a,b".into()], AnswerFormat::Auto).is_err());
        let m = FieldMap::parse(&["options=opa,opb".into()], AnswerFormat::Auto).unwrap();
        assert_eq!(m.columns[0].1, vec!["opa", "opb"]);
    }

    #[test]
    fn answers_in_every_format() {
        let o: Vec<String> = ["red", "green", "blue"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            resolve_answer(&Value::from("B"), &o, AnswerFormat::Auto).unwrap(),
            1
        );
        assert_eq!(
            resolve_answer(&Value::from(2), &o, AnswerFormat::Auto).unwrap(),
            2
        );
        assert_eq!(
            resolve_answer(&Value::from("Green"), &o, AnswerFormat::Auto).unwrap(),
            1
        );
        assert_eq!(
            resolve_answer(&Value::from("3"), &o, AnswerFormat::Index1).unwrap(),
            2
        );
        assert!(resolve_answer(&Value::from("0"), &o, AnswerFormat::Index1).is_err());
    }
}
