//! The generic importer: any JSON Lines, JSON document, CSV/TSV or Parquet file, driven by
//! `--map field=path` (paths as in [`super::fields`]).
//!
//! Fields: `id`, `question`, `options` (one field holding a list of strings, a list of objects, or an
//! object keyed by letters or numbers; or several columns `options=a,b,c,d`), `answer` (a letter, an
//! index, the option's text or id, or a list of them), `context`, `subject`, `explanation`, and for
//! numeric tasks `tolerance` or `low`+`high`. Unmapped fields fall back to a field of the same name (and
//! `choices` for `options`). Fields that are not mapped go to `meta`.

use super::fields::{scalar_text, FieldPath, IdTemplate};
use super::mmlu_redux::parse_py_list;
use super::records::{self, Row};
use super::{letter_index, split_for, unmapped, Format, ImportOptions, Imported, InputFile, Skips};
use crate::item::{normalize_text, Acceptance, Answer, Item};
use crate::task::{Task, YES_NO_MAYBE};
use crate::writer::BenchmarkInfo;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
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
    /// The id of an option (the key of options keyed by letter or number, or the id field of option objects).
    Id,
}

impl std::fmt::Display for AnswerFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AnswerFormat::Auto => "an option id, option text, a letter or a 0-based index",
            AnswerFormat::Id => "an option id",
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
            "id" => AnswerFormat::Id,
            _ => {
                return Err(format!(
                    "unknown answer format `{s}`; expected auto, letter, index0, index1, text or id"
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

    /// The value of `field` in `row`: from its mapped path (an error when the path is mapped but absent), or
    /// from a same-named default field.
    pub fn value(&self, field: &str, row: &Row) -> Result<Option<Value>, String> {
        let cols = self.cols(field, &row.fields);
        let Some(c) = cols.first() else {
            return Ok(None);
        };
        let path = FieldPath::parse(c)?;
        match path.get(row) {
            Some(Value::Null) | None if self.is_mapped(field) => {
                Err(format!("mapped field `{c}` (for {field}) is missing"))
            }
            Some(Value::Null) => Ok(None),
            v => Ok(v),
        }
    }

    /// Whether `field` is mapped explicitly.
    pub fn is_mapped(&self, field: &str) -> bool {
        self.columns.iter().any(|(f, _)| f == field)
    }

    /// The columns for `field`: the mapped ones, or same-named defaults present in the row.
    pub fn cols(&self, field: &str, row: &Map<String, Value>) -> Vec<String> {
        if let Some((_, c)) = self.columns.iter().find(|(f, _)| f == field) {
            return c.clone();
        }
        let defaults: &[&str] = match field {
            "options" => &["options", "choices"],
            "answer" => &["answer", "answers", "answer_idx", "label"],
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

/// Read every input's records (JSON Lines, a JSON document, CSV/TSV or Parquet) and convert them.
/// `shape` forces how files are read (`--from csv` on a `.txt` file); `None` goes by name and content.
pub fn import(
    inputs: &[InputFile],
    opts: &ImportOptions,
    shape: Option<Format>,
) -> Result<Imported, String> {
    let mut skipped = Skips::default();
    let mut files = Vec::new();
    for input in inputs {
        let format = shape
            .filter(|f| f.is_generic())
            .unwrap_or_else(|| Format::guess(&input.name, &input.bytes));
        let (shape, rows) = records::read_rows(input, format, opts.records.as_ref(), &mut skipped)?;
        files.push((input, shape, rows));
    }
    let task = match opts.task {
        Some(t) => t,
        None => {
            let multi = files
                .iter()
                .flat_map(|(_, _, rows)| rows.iter())
                .filter(|r| {
                    opts.map
                        .value("answer", r)
                        .ok()
                        .flatten()
                        .is_some_and(|v| names_several_options(&v))
                })
                .count();
            if multi > 0 {
                Task::McqMulti
            } else {
                Task::Mcq
            }
        }
    };
    let mut out = Imported::new(BenchmarkInfo::new(inputs[0].stem(), task));
    out.skipped = skipped;
    if opts.task.is_none() && task == Task::McqMulti {
        out.notes.push(
            "some answers list several correct options, so the task is mcq_multi (pass --task to choose)"
                .into(),
        );
    }
    let mut read_as: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (input, shape, rows) in &files {
        if !matches!(shape, records::Shape::JsonLines) || files.len() > 1 {
            out.notes
                .push(format!("{}: {shape}, {} record(s)", input.name, rows.len()));
        }
        let split = split_for(input, opts);
        for row in rows {
            match row_to_item(row, &opts.map, opts.id.as_ref(), task, input) {
                Ok((item, how)) => {
                    if let Some(h) = how {
                        *read_as.entry(h).or_default() += 1;
                    }
                    out.push(&split, item, &input.name, &row.loc)
                }
                Err(reason) => out.skipped.skip(&input.name, &row.loc, &reason),
            }
        }
    }
    if read_as.len() > 1 || read_as.keys().any(|k| *k == "an option id") {
        let parts: Vec<String> = read_as.iter().map(|(k, n)| format!("{n} as {k}")).collect();
        out.notes.push(format!(
            "answers read: {} (set --answer-format to choose)",
            parts.join(", ")
        ));
    }
    Ok(out)
}

fn text(v: &Value) -> Option<String> {
    scalar_text(v)
}

/// Whether an answer value names several options: a list of two or more, or text that is a list of
/// letters such as `A,C` or `b; d` (MMLU-Redux's `correct_answer`).
pub fn names_several_options(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.len() > 1,
        Value::String(s) => {
            let parts: Vec<&str> = s.split([',', ';', '/', '&']).map(str::trim).collect();
            parts.len() > 1 && parts.iter().all(|p| letter_index(p).is_some())
        }
        _ => false,
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Field names of option objects that hold the option's text, and that identify it.
pub const OPTION_TEXT_KEYS: [&str; 10] = [
    "text",
    "value",
    "content",
    "option",
    "option_text",
    "choice",
    "answer",
    "body",
    "label_text",
    "description",
];
pub const OPTION_ID_KEYS: [&str; 11] = [
    "id",
    "n",
    "label",
    "key",
    "letter",
    "option_id",
    "number",
    "num",
    "idx",
    "index",
    "code",
];

/// Options as given in the record: their texts, and their ids when the source names them (the keys of an
/// object keyed by letters or numbers, or the id field of option objects).
fn options_from_value(v: &Value) -> Result<(Vec<String>, Vec<String>), String> {
    match v {
        Value::Array(a) if a.iter().any(Value::is_object) => {
            let first = a.iter().find_map(Value::as_object).unwrap();
            let text_key = OPTION_TEXT_KEYS
                .iter()
                .find(|k| first.get(**k).is_some_and(Value::is_string))
                .copied()
                .or_else(|| {
                    let strings: Vec<&String> = first
                        .iter()
                        .filter(|(k, x)| x.is_string() && !OPTION_ID_KEYS.contains(&k.as_str()))
                        .map(|(k, _)| k)
                        .collect();
                    (strings.len() == 1).then(|| strings[0].as_str())
                })
                .map(str::to_string);
            let Some(tk) = text_key else {
                let keys: Vec<&str> = first.keys().map(String::as_str).collect();
                return Err(format!(
                    "options are objects with fields {}; say which holds the text, e.g. --map options=<list>[].{}",
                    keys.join(", "),
                    keys.first().unwrap_or(&"text")
                ));
            };
            let id_key = OPTION_ID_KEYS
                .iter()
                .find(|k| **k != tk && first.get(**k).is_some_and(|x| scalar_text(x).is_some()));
            let texts = a
                .iter()
                .map(|o| o.get(&tk).and_then(text).unwrap_or_default())
                .collect();
            let ids = match id_key {
                Some(k) => a
                    .iter()
                    .map(|o| o.get(*k).and_then(text).unwrap_or_default())
                    .collect(),
                None => Vec::new(),
            };
            Ok((texts, ids))
        }
        Value::Array(a) => Ok((
            a.iter().map(|v| text(v).unwrap_or_default()).collect(),
            Vec::new(),
        )),
        Value::Object(o) => {
            let letters = o.keys().all(|k| letter_index(k).is_some());
            let numbers = o.keys().all(|k| k.trim().parse::<u32>().is_ok());
            if o.is_empty() || !(letters || numbers) {
                let keys: Vec<&str> = o.keys().take(6).map(String::as_str).collect();
                return Err(format!(
                    "options are an object keyed by {}; expected keys that are letters (A, B, ...) or numbers (1, 2, ...)",
                    keys.join(", ")
                ));
            }
            let mut entries: Vec<(&String, &Value)> = o.iter().collect();
            if numbers {
                entries.sort_by_key(|(k, _)| k.trim().parse::<u32>().unwrap_or(0));
            } else {
                entries.sort_by_key(|(k, _)| letter_index(k));
            }
            let texts = entries
                .iter()
                .map(|(_, v)| match v {
                    Value::Object(_) => options_from_value(&Value::Array(vec![(*v).clone()]))
                        .ok()
                        .and_then(|(t, _)| t.into_iter().next())
                        .unwrap_or_default(),
                    v => text(v).unwrap_or_default(),
                })
                .collect();
            Ok((
                texts,
                entries.iter().map(|(k, _)| k.trim().to_string()).collect(),
            ))
        }
        Value::String(s) => serde_json::from_str::<Vec<String>>(s)
            .ok()
            .or_else(|| parse_py_list(s))
            .map(|v| (v, Vec::new()))
            .ok_or_else(|| "options field is text, not a list".to_string()),
        other => Err(format!(
            "options field is {}, not a list or an object of options",
            crate::item::kind(other)
        )),
    }
}

/// `row` becomes an item; also says how the answer was read (for the note on ambiguous encodings).
fn row_to_item(
    row: &Row,
    map: &FieldMap,
    id_template: Option<&IdTemplate>,
    task: Task,
    input: &InputFile,
) -> Result<(Item, Option<&'static str>), String> {
    let mut used: Vec<String> = Vec::new();
    let mut one = |field: &str| -> Result<Option<Value>, String> {
        let cols = map.cols(field, &row.fields);
        used.extend(cols.iter().cloned());
        map.value(field, row)
    };
    let question = one("question")?
        .as_ref()
        .and_then(text)
        .ok_or("no question (map it with --map question=<field>)")?;
    let id = match id_template {
        Some(t) => t.render(row)?,
        None => one("id")?
            .as_ref()
            .and_then(text)
            .unwrap_or_else(|| format!("{}-{}", input.stem(), row.ordinal)),
    };
    let context = one("context")?.as_ref().and_then(context_text);
    let subject = one("subject")?.as_ref().and_then(text);
    let explanation = one("explanation")?.as_ref().and_then(text);
    let answer_raw = one("answer")?.ok_or("no answer (map it with --map answer=<field>)")?;
    if answer_raw.as_str().is_some_and(|a| a.trim().is_empty()) {
        let field = map
            .cols("answer", &row.fields)
            .first()
            .cloned()
            .unwrap_or_default();
        return Err(format!("the answer field `{field}` is empty"));
    }

    let (options, answer, how) = match task {
        Task::Numeric => {
            let value = number(&answer_raw).ok_or("numeric answer is not a number")?;
            let tol = one("tolerance")?.as_ref().and_then(number);
            let low = one("low")?.as_ref().and_then(number);
            let high = one("high")?.as_ref().and_then(number);
            let accept = match (tol, low, high) {
                (Some(t), None, None) => Acceptance::Tolerance(t),
                (None, Some(l), Some(h)) => Acceptance::Range(l, h),
                _ => return Err("numeric item needs a tolerance column or low+high columns (--map tolerance=... or low=... high=...)".into()),
            };
            (Vec::new(), Answer::Numeric { value, accept }, None)
        }
        _ => {
            let option_cols = map.cols("options", &row.fields);
            used.extend(option_cols.iter().cloned());
            let (options, ids): (Vec<String>, Vec<String>) =
                if option_cols.is_empty() && task == Task::YesNoMaybe {
                    (
                        YES_NO_MAYBE.iter().map(|s| s.to_string()).collect(),
                        Vec::new(),
                    )
                } else if option_cols.len() == 1 {
                    let path = FieldPath::parse(&option_cols[0])?;
                    let v = path
                        .get(row)
                        .ok_or_else(|| format!("options field `{}` is missing", option_cols[0]))?;
                    let (texts, mut ids) = options_from_value(&v)?;
                    if ids.is_empty() {
                        ids = projected_ids(&option_cols[0], row);
                    }
                    (texts, ids)
                } else if option_cols.is_empty() {
                    return Err(
                        "no options (map them with --map options=<list field> or options=a,b,c,d)"
                            .into(),
                    );
                } else {
                    let mut v: Vec<String> = option_cols
                        .iter()
                        .map(|c| {
                            FieldPath::parse(c)
                                .ok()
                                .and_then(|p| p.get(row))
                                .as_ref()
                                .and_then(text)
                                .unwrap_or_default()
                        })
                        .collect();
                    while v.last().is_some_and(String::is_empty) {
                        v.pop(); // items with fewer options than columns
                    }
                    (v, Vec::new())
                };
            let (set, how) = resolve_answers(
                &answer_raw,
                &options,
                &ids,
                map.answer_format,
                task.is_multi(),
            )?;
            let answer = if task.is_multi() {
                Answer::Indices(set)
            } else if set.len() == 1 {
                Answer::Index(set[0])
            } else {
                return Err(format!(
                    "{} correct answers given; a benchmark whose items have several correct options is converted with --task mcq_multi",
                    set.len()
                ));
            };
            (options, answer, Some(how))
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
    // A mapped column counts as used verbatim and by the key its path starts from.
    let mut keys: Vec<String> = used.clone();
    keys.extend(
        used.iter()
            .filter_map(|c| FieldPath::parse(c).ok()?.root_key().map(str::to_string)),
    );
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    item.meta = unmapped(&row.fields, &keys);
    Ok((item, how))
}

/// A context field: text, or a list of passages joined by blank lines (PubMedQA's CONTEXTS).
fn context_text(v: &Value) -> Option<String> {
    match v {
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().filter_map(text).collect();
            (!parts.is_empty()).then(|| parts.join("\n\n"))
        }
        v => text(v),
    }
}

/// For `choices[n].text`, the ids of the options in the same order: `choices[n].<id field>`.
fn projected_ids(path: &str, row: &Row) -> Vec<String> {
    let Some(open) = path.rfind('[') else {
        return Vec::new();
    };
    let Some(close) = path[open..].find(']').map(|c| open + c) else {
        return Vec::new();
    };
    let base = &path[..=close];
    for k in OPTION_ID_KEYS {
        if let Some(Value::Array(a)) = FieldPath::parse(&format!("{base}.{k}"))
            .ok()
            .and_then(|p| p.get(row))
        {
            let ids: Vec<String> = a.iter().filter_map(text).collect();
            if !ids.is_empty() && ids.len() == a.len() {
                return ids;
            }
        }
    }
    Vec::new()
}

/// The correct options named by an answer value: one value, a list, or (for multi-answer tasks) text
/// such as `A, C`. Returns the sorted set and how it was read.
fn resolve_answers(
    v: &Value,
    options: &[String],
    ids: &[String],
    fmt: AnswerFormat,
    multi: bool,
) -> Result<(Vec<usize>, &'static str), String> {
    let values: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        Value::String(s) if multi && resolve_answer(v, options, ids, fmt).is_err() => s
            .replace(" and ", ",")
            .split([',', ';', '/', ' ', '|', '+'])
            .filter(|p| !p.trim().is_empty())
            .map(|p| Value::String(p.trim().to_string()))
            .collect(),
        v => vec![v.clone()],
    };
    if values.is_empty() {
        return Err("answer list is empty".into());
    }
    let mut set = Vec::new();
    let mut how = "";
    for x in &values {
        let (i, h) = resolve_answer(x, options, ids, fmt)?;
        if !set.contains(&i) {
            set.push(i);
        }
        how = h;
    }
    set.sort_unstable();
    Ok((set, how))
}

fn resolve_answer(
    v: &Value,
    options: &[String],
    ids: &[String],
    fmt: AnswerFormat,
) -> Result<(usize, &'static str), String> {
    let s = text(v).ok_or("answer is empty")?;
    let as_int = s.parse::<i64>().ok();
    let by_text = || {
        options
            .iter()
            .position(|o| normalize_text(o) == normalize_text(&s))
    };
    let by_id = || {
        ids.iter()
            .position(|i| normalize_text(i) == normalize_text(&s))
    };
    let index0 = || as_int.filter(|i| *i >= 0).map(|i| i as usize);
    let r = match fmt {
        AnswerFormat::Letter => letter_index(&s).map(|i| (i, "a letter")),
        AnswerFormat::Index0 => index0().map(|i| (i, "a 0-based index")),
        AnswerFormat::Index1 => as_int
            .filter(|i| *i >= 1)
            .map(|i| (i as usize - 1, "a 1-based index")),
        AnswerFormat::Text => by_text().map(|i| (i, "option text")),
        AnswerFormat::Id => by_id().map(|i| (i, "an option id")),
        AnswerFormat::Auto => by_id()
            .map(|i| (i, "an option id"))
            .or_else(|| by_text().map(|i| (i, "option text")))
            .or_else(|| letter_index(&s).map(|i| (i, "a letter")))
            .or_else(|| index0().map(|i| (i, "a 0-based index"))),
    };
    match r {
        Some((i, h)) if i < options.len().max(1) || options.is_empty() => Ok((i, h)),
        Some((i, _)) => Err(format!(
            "answer {s:?} points at option {} of {}",
            i + 1,
            options.len()
        )),
        None if fmt == AnswerFormat::Id && ids.is_empty() => Err(format!(
            "answer {s:?}: the options carry no ids (use another --answer-format)"
        )),
        None => Err(format!("answer {s:?} is not {fmt}")),
    }
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
            resolve_answer(&Value::from("B"), &o, &[], AnswerFormat::Auto)
                .unwrap()
                .0,
            1
        );
        assert_eq!(
            resolve_answer(&Value::from(2), &o, &[], AnswerFormat::Auto)
                .unwrap()
                .0,
            2
        );
        assert_eq!(
            resolve_answer(&Value::from("Green"), &o, &[], AnswerFormat::Auto)
                .unwrap()
                .0,
            1
        );
        assert_eq!(
            resolve_answer(&Value::from("3"), &o, &[], AnswerFormat::Index1)
                .unwrap()
                .0,
            2
        );
        assert!(resolve_answer(&Value::from("0"), &o, &[], AnswerFormat::Index1).is_err());
    }
}
