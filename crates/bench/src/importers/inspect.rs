//! `bedside convert --inspect`: what a file looks like and how to convert it. The same code backs the
//! browser's converter: the detected shape, the record path, the first records' fields, a suggested
//! mapping, and what converting with that mapping gives (items converted, the first problem).

use super::fields::scalar_text;
use super::generic::OPTION_TEXT_KEYS;
use super::records::{self, RecordPath, Row, Shape, QUESTION_KEYS};
use super::{
    import, letter_index, AnswerFormat, FieldMap, Format, IdTemplate, ImportOptions, InputFile,
    Skips,
};
use crate::task::Task;
use serde::Serialize;
use serde_json::Value;

/// One field seen in the first records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldInfo {
    /// How to name it in `--map` (`topic`, `..topic` for an enclosing object's field, `section` for a key).
    pub path: String,
    /// What it holds (`text`, `number`, `list of 4 texts`, `list of objects (n, text)`, ...).
    pub kind: String,
    pub example: String,
    /// In how many of the sampled records it is present.
    pub present: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    pub file: String,
    pub format: String,
    pub shape: String,
    /// For JSON documents: the record path used.
    pub records_path: Option<String>,
    pub records: usize,
    pub sampled: usize,
    pub fields: Vec<FieldInfo>,
    /// The suggested mapping, `field` -> path (or comma-separated columns for options).
    pub map: Vec<(String, String)>,
    pub task: Task,
    /// A suggested id template, when the id field repeats across groups.
    pub id: Option<String>,
    pub notes: Vec<String>,
    /// What converting with the suggestion gives.
    pub converts: usize,
    pub skipped: usize,
    pub first_problem: Option<String>,
    /// The suggested command line.
    pub command: String,
}

impl Inspection {
    /// The import options the suggestion stands for.
    pub fn options(&self) -> ImportOptions {
        let pairs: Vec<String> = self.map.iter().map(|(f, p)| format!("{f}={p}")).collect();
        ImportOptions {
            map: FieldMap::parse(&pairs, AnswerFormat::Auto).unwrap_or_default(),
            task: Some(self.task),
            records: self
                .records_path
                .as_deref()
                .and_then(|p| RecordPath::parse(p).ok()),
            id: self.id.as_deref().and_then(|t| IdTemplate::parse(t).ok()),
            ..ImportOptions::default()
        }
    }

    /// A plain-text report, as `bedside convert --inspect` prints it.
    pub fn render(&self) -> String {
        let mut s = format!("{}: {}\n", self.file, self.shape);
        s.push_str(&format!(
            "  {} record(s); fields of the first {}:\n",
            self.records, self.sampled
        ));
        let w = self
            .fields
            .iter()
            .map(|f| f.path.len())
            .max()
            .unwrap_or(4)
            .max(4);
        for f in &self.fields {
            s.push_str(&format!(
                "    {:<w$}  {:<28}  {}{}\n",
                f.path,
                f.kind,
                f.example,
                if f.present < self.sampled {
                    format!("   (in {} of {})", f.present, self.sampled)
                } else {
                    String::new()
                }
            ));
        }
        s.push_str("  suggested mapping:\n");
        for (f, p) in &self.map {
            s.push_str(&format!("    {f:<11} <- {p}\n"));
        }
        s.push_str(&format!("    task        {}\n", self.task));
        if let Some(t) = &self.id {
            s.push_str(&format!("    id          {t}\n"));
        }
        for n in &self.notes {
            s.push_str(&format!("  note: {n}\n"));
        }
        s.push_str(&format!(
            "  with this mapping: {} item(s) convert, {} skipped{}\n",
            self.converts,
            self.skipped,
            self.first_problem
                .as_ref()
                .map(|p| format!(" (first: {p})"))
                .unwrap_or_default()
        ));
        s.push_str(&format!("  try:\n    {}\n", self.command));
        s
    }
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/=,:".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "true/false".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "text".into(),
        Value::Array(a) if a.is_empty() => "empty list".into(),
        Value::Array(a) => match &a[0] {
            Value::Object(o) => format!(
                "list of {} objects ({})",
                a.len(),
                o.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
            ),
            Value::String(_) => format!("list of {} texts", a.len()),
            Value::Number(_) => format!("list of {} numbers", a.len()),
            _ => format!("list of {}", a.len()),
        },
        Value::Object(o) => {
            let keys: Vec<&str> = o.keys().take(6).map(String::as_str).collect();
            format!("object ({})", keys.join(", "))
        }
    }
}

fn example(v: &Value) -> String {
    let t = match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let t: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > 60 {
        format!("{}…", t.chars().take(59).collect::<String>())
    } else {
        t
    }
}

/// The first key of `row` (case-insensitively) among `names` present in at least half of `rows`.
fn pick<'a>(rows: &'a [Row], names: &[&str], ok: impl Fn(&Value) -> bool) -> Option<String> {
    for n in names {
        let mut key = None;
        let mut hits = 0;
        for r in rows {
            if let Some((k, v)) = r.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)) {
                if ok(v) {
                    hits += 1;
                    key.get_or_insert_with(|| k.clone());
                }
            }
        }
        if hits * 2 >= rows.len() && hits > 0 {
            return key;
        }
    }
    None
}

const OPTION_KEYS: [&str; 9] = [
    "options",
    "choices",
    "alternatives",
    "answer_options",
    "answer_choices",
    "candidates",
    "opts",
    "option",
    "choice",
];
const ANSWER_KEYS: [&str; 20] = [
    "answer",
    "answers",
    "answer_idx",
    "answer_index",
    "answer_letter",
    "correct",
    "correct_answer",
    "correct_answers",
    "correct_option",
    "correct_options",
    "answer_key",
    "key",
    "label",
    "gold",
    "cop",
    "target",
    "right_answer",
    "solution",
    "final_decision",
    "output",
];
const CONTEXT_KEYS: [&str; 8] = [
    "context",
    "contexts",
    "passage",
    "abstract",
    "background",
    "case",
    "vignette",
    "scenario",
];
const SUBJECT_KEYS: [&str; 8] = [
    "subject",
    "subject_name",
    "topic",
    "topic_name",
    "category",
    "specialty",
    "domain",
    "section",
];
const EXPLANATION_KEYS: [&str; 5] = [
    "explanation",
    "exp",
    "rationale",
    "reasoning",
    "solution_text",
];
const ID_KEYS: [&str; 11] = [
    "id",
    "qid",
    "question_id",
    "item_id",
    "uid",
    "uuid",
    "_id",
    "number",
    "no",
    "n",
    "index",
];
const ORDER_KEYS: [&str; 8] = [
    "n", "order", "position", "index", "idx", "number", "num", "rank",
];

fn looks_like_options(v: &Value) -> bool {
    match v {
        Value::Array(a) => {
            a.len() >= 2 && (a.iter().all(Value::is_string) || a.iter().all(Value::is_object))
        }
        Value::Object(o) => {
            o.len() >= 2
                && (o.keys().all(|k| letter_index(k).is_some())
                    || o.keys().all(|k| k.trim().parse::<u32>().is_ok()))
        }
        _ => false,
    }
}

/// Columns such as `A, B, C, D`, `opa..opd`, `choice0..choice3` or `option_1..option_5`.
fn option_columns(row: &Row) -> Option<Vec<String>> {
    let mut groups: Vec<(String, bool, Vec<(usize, String)>)> = Vec::new();
    for k in row.fields.keys() {
        let (prefix, suffix) = match k
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_digit())
            .last()
        {
            Some((i, _)) => (&k[..i], &k[i..]),
            None if !k.is_empty() => k.split_at(k.len() - 1),
            None => continue,
        };
        let (numeric, pos) = if let Ok(n) = suffix.parse::<usize>() {
            (true, n)
        } else if let Some(i) = letter_index(suffix).filter(|_| suffix.len() == 1) {
            (false, i)
        } else {
            continue;
        };
        let prefix = prefix.trim_end_matches(['_', ' ', '-']).to_lowercase();
        let prefix_ok = prefix.is_empty()
            || ["op", "opt", "option", "choice", "ans", "answer", "alt"].contains(&prefix.as_str());
        if !prefix_ok || (prefix.is_empty() && numeric) {
            continue;
        }
        match groups
            .iter_mut()
            .find(|(p, n, _)| *p == prefix && *n == numeric)
        {
            Some((_, _, v)) => v.push((pos, k.clone())),
            None => groups.push((prefix, numeric, vec![(pos, k.clone())])),
        }
    }
    groups
        .into_iter()
        .filter_map(|(_, numeric, mut v)| {
            v.sort();
            let start = v[0].0;
            let consecutive = v.iter().enumerate().all(|(i, (p, _))| *p == start + i);
            let first_ok = if numeric { start <= 1 } else { start == 0 };
            (v.len() >= 2 && consecutive && first_ok)
                .then(|| v.into_iter().map(|(_, k)| k).collect::<Vec<_>>())
        })
        .max_by_key(Vec::len)
}

/// Inspect one file (records at `path` for JSON documents, detected when `None`).
pub fn inspect(input: &InputFile, path: Option<&RecordPath>) -> Result<Inspection, String> {
    let mut skips = Skips::default();
    let format = Format::guess(&input.name, &input.bytes);
    let (shape, rows) = records::read_rows(input, format, path, &mut skips)?;
    if rows.is_empty() {
        return Err(format!(
            "{}: {shape}, but no record could be read{}",
            input.name,
            skips
                .examples
                .first()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        ));
    }
    let sample: Vec<Row> = rows.iter().take(50).cloned().collect();
    let n = sample.len();

    // Fields: the records' own, then enclosing objects' (`..x`), then bound keys.
    let mut fields: Vec<FieldInfo> = Vec::new();
    let mut add = |path: String, v: &Value| match fields.iter_mut().find(|f| f.path == path) {
        Some(f) => f.present += 1,
        None => fields.push(FieldInfo {
            path,
            kind: describe(v),
            example: example(v),
            present: 1,
        }),
    };
    for r in &sample {
        for (k, v) in &r.fields {
            add(k.clone(), v);
        }
        let mut seen = Vec::new();
        for m in &r.enclosing {
            for (k, v) in m {
                if !seen.contains(k) && !r.fields.contains_key(k) {
                    seen.push(k.clone());
                    add(format!("..{k}"), v);
                }
            }
        }
        for (b, key) in &r.bindings {
            add(b.clone(), &Value::String(key.clone()));
        }
    }

    let mut map: Vec<(String, String)> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let is_text = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    let question = pick(&sample, &QUESTION_KEYS, is_text).or_else(|| {
        // The longest text field on average.
        let mut best: Option<(usize, String)> = None;
        for f in fields
            .iter()
            .filter(|f| f.kind == "text" && !f.path.starts_with(".."))
        {
            let total: usize = sample
                .iter()
                .filter_map(|r| r.fields.get(&f.path)?.as_str().map(str::len))
                .sum();
            if best.as_ref().is_none_or(|(t, _)| total > *t) {
                best = Some((total, f.path.clone()));
            }
        }
        best.map(|(_, p)| p)
    });
    if let Some(q) = &question {
        map.push(("question".into(), q.clone()));
    } else {
        notes.push(
            "no text field to use as the question; map one with --map question=<field>".into(),
        );
    }

    let answer = pick(&sample, &ANSWER_KEYS, |v| !v.is_null());
    let options = pick(&sample, &OPTION_KEYS, looks_like_options).or_else(|| {
        fields
            .iter()
            .filter(|f| !f.path.starts_with("..") && Some(&f.path) != answer.as_ref())
            .find(|f| {
                sample
                    .iter()
                    .filter(|r| r.fields.get(&f.path).is_some_and(looks_like_options))
                    .count()
                    * 2
                    >= n
            })
            .map(|f| f.path.clone())
    });
    let mut task = Task::Mcq;
    match &options {
        Some(o) => {
            let first = sample
                .iter()
                .find_map(|r| r.fields.get(o))
                .cloned()
                .unwrap_or(Value::Null);
            let path = match first
                .as_array()
                .and_then(|a| a.first())
                .and_then(Value::as_object)
            {
                Some(obj) => {
                    let order = ORDER_KEYS
                        .iter()
                        .find(|k| obj.get(**k).is_some_and(Value::is_number));
                    let text = OPTION_TEXT_KEYS
                        .iter()
                        .find(|k| obj.get(**k).is_some_and(Value::is_string));
                    match (order, text) {
                        (Some(ord), Some(t)) => {
                            notes.push(format!(
                                "options are objects with an order field `{ord}`; they are put in that order ({o}[{ord}].{t})"
                            ));
                            format!("{o}[{ord}].{t}")
                        }
                        _ => o.clone(),
                    }
                }
                None => o.clone(),
            };
            map.push(("options".into(), path));
        }
        None => match sample.first().and_then(option_columns) {
            Some(cols) => map.push(("options".into(), cols.join(","))),
            None => {
                let yn = answer.as_ref().is_some_and(|a| {
                    sample.iter().all(|r| {
                        r.fields.get(a).and_then(Value::as_str).is_some_and(|s| {
                            ["yes", "no", "maybe"].contains(&s.trim().to_lowercase().as_str())
                        })
                    })
                });
                if yn {
                    task = Task::YesNoMaybe;
                    notes.push(
                        "no options, and every answer is yes/no/maybe: task yes_no_maybe".into(),
                    );
                } else {
                    notes.push(
                        "no options found; map them with --map options=<list field> or options=<col1>,<col2>,..."
                            .into(),
                    );
                }
            }
        },
    }
    if let Some(a) = &answer {
        map.push(("answer".into(), a.clone()));
        let multi = sample
            .iter()
            .filter(|r| {
                r.fields
                    .get(a)
                    .is_some_and(super::generic::names_several_options)
            })
            .count();
        if multi > 0 {
            task = Task::McqMulti;
            notes.push(format!(
                "{multi} of the first {n} records name several correct answers: task mcq_multi"
            ));
        }
    } else {
        notes.push("no answer field found; map it with --map answer=<field>".into());
    }
    if let Some(c) = pick(&sample, &CONTEXT_KEYS, |v| is_text(v) || v.is_array()) {
        map.push(("context".into(), c));
    }
    let bound: Vec<String> = sample
        .first()
        .map(|r| r.bindings.iter().map(|(b, _)| b.clone()).collect())
        .unwrap_or_default();
    let subject = pick(&sample, &SUBJECT_KEYS, |v| is_text(v)).or_else(|| {
        SUBJECT_KEYS
            .iter()
            .map(|k| format!("..{k}"))
            .find(|p| fields.iter().any(|f| f.path == *p && f.present * 2 >= n))
            .or_else(|| bound.first().cloned())
    });
    if let Some(s) = subject {
        map.push(("subject".into(), s));
    }
    if let Some(e) = pick(&sample, &EXPLANATION_KEYS, is_text) {
        map.push(("explanation".into(), e));
    }
    let mut id = None;
    if let Some(k) = pick(&sample, &ID_KEYS, |v| scalar_text(v).is_some()) {
        let values: Vec<String> = rows
            .iter()
            .filter_map(|r| r.fields.get(&k).and_then(scalar_text))
            .collect();
        let mut unique = values.clone();
        unique.sort();
        unique.dedup();
        if unique.len() == values.len() && values.len() == rows.len() {
            map.push(("id".into(), k));
        } else if let Some(b) = bound.first() {
            id = Some(format!("{{{b}}}-{{{k}}}"));
            notes.push(format!(
                "`{k}` repeats across groups; ids are made from the group key and `{k}`"
            ));
        } else {
            notes.push(format!(
                "`{k}` is not unique; ids are generated as {}-<record number>",
                input.stem()
            ));
        }
    }

    let records_path = match &shape {
        Shape::JsonDocument { path, .. } if !path.is_root() => Some(path.to_string()),
        _ => None,
    };
    let mut insp = Inspection {
        file: input.name.clone(),
        format: format.to_string(),
        shape: shape.to_string(),
        records_path,
        records: rows.len(),
        sampled: n,
        fields,
        map,
        task,
        id,
        notes,
        converts: 0,
        skipped: 0,
        first_problem: None,
        command: String::new(),
    };
    let imported = import(format, std::slice::from_ref(input), &insp.options())?;
    insp.converts = imported.converted();
    insp.skipped = imported.skipped.total();
    insp.first_problem = imported.skipped.examples.first().cloned();
    let mut cmd = format!(
        "bedside convert --from {format} {}",
        shell_quote(&input.name)
    );
    if let Some(p) = &insp.records_path {
        cmd.push_str(&format!(" --records {}", shell_quote(p)));
    }
    for (f, p) in &insp.map {
        cmd.push_str(&format!(" --map {}", shell_quote(&format!("{f}={p}"))));
    }
    if insp.task != Task::Mcq {
        cmd.push_str(&format!(" --task {}", insp.task));
    }
    if let Some(t) = &insp.id {
        cmd.push_str(&format!(" --id {}", shell_quote(t)));
    }
    cmd.push_str(" --out my-benchmark");
    insp.command = cmd;
    Ok(insp)
}
