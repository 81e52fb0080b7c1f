//! One benchmark item (one line of a shard), its JSON form, and the checks on a single item.

use crate::problem::Problem;
use crate::task::{Task, MAX_OPTIONS, MIN_OPTIONS, YES_NO_MAYBE};
use serde_json::{Map, Value};

/// The gold answer of an item.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 0-based index into `options` (`mcq`, `yes_no_maybe`).
    Index(usize),
    /// A number accepted within an absolute `tolerance` or inside a closed `range` (`numeric`).
    Numeric { value: f64, accept: Acceptance },
    /// The set of correct options, 0-based, sorted, without repeats, never empty (`mcq_multi`).
    Indices(Vec<usize>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Acceptance {
    Tolerance(f64),
    Range(f64, f64),
}

impl Answer {
    pub fn index(&self) -> Option<usize> {
        match self {
            Answer::Index(i) => Some(*i),
            Answer::Numeric { .. } | Answer::Indices(_) => None,
        }
    }

    /// The correct options: one for a single-answer item, the set for `mcq_multi`, none for numeric.
    pub fn indices(&self) -> Vec<usize> {
        match self {
            Answer::Index(i) => vec![*i],
            Answer::Indices(v) => v.clone(),
            Answer::Numeric { .. } => Vec::new(),
        }
    }

    /// Whether a numeric prediction is accepted (always false for choice answers).
    pub fn accepts_number(&self, x: f64) -> bool {
        match *self {
            Answer::Numeric {
                value,
                accept: Acceptance::Tolerance(t),
            } => (x - value).abs() <= t,
            Answer::Numeric {
                accept: Acceptance::Range(lo, hi),
                ..
            } => lo <= x && x <= hi,
            Answer::Index(_) | Answer::Indices(_) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: String,
    pub question: String,
    pub options: Vec<String>,
    pub answer: Answer,
    pub context: Option<String>,
    pub subject: Option<String>,
    pub explanation: Option<String>,
    pub meta: Map<String, Value>,
}

/// Fields an item may carry at top level.
pub const ITEM_FIELDS: [&str; 10] = [
    "id",
    "question",
    "options",
    "answer",
    "tolerance",
    "range",
    "context",
    "subject",
    "explanation",
    "meta",
];

impl Item {
    /// A choice item (mcq or yes_no_maybe) with no optional fields.
    pub fn choice(
        id: impl Into<String>,
        question: impl Into<String>,
        options: Vec<String>,
        answer: usize,
    ) -> Self {
        Item {
            id: id.into(),
            question: question.into(),
            options,
            answer: Answer::Index(answer),
            context: None,
            subject: None,
            explanation: None,
            meta: Map::new(),
        }
    }

    /// The JSON object of this item, fields in canonical order.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), Value::String(self.id.clone()));
        m.insert("question".into(), Value::String(self.question.clone()));
        if !self.options.is_empty() {
            m.insert("options".into(), Value::from(self.options.clone()));
        }
        match &self.answer {
            Answer::Index(i) => {
                m.insert("answer".into(), Value::from(*i));
            }
            Answer::Indices(v) => {
                m.insert("answer".into(), Value::from(v.clone()));
            }
            Answer::Numeric { value, accept } => {
                m.insert("answer".into(), num(*value));
                match accept {
                    Acceptance::Tolerance(t) => m.insert("tolerance".into(), num(*t)),
                    Acceptance::Range(lo, hi) => {
                        m.insert("range".into(), Value::Array(vec![num(*lo), num(*hi)]))
                    }
                };
            }
        }
        for (k, v) in [
            ("context", &self.context),
            ("subject", &self.subject),
            ("explanation", &self.explanation),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), Value::String(v.clone()));
            }
        }
        if !self.meta.is_empty() {
            m.insert("meta".into(), Value::Object(self.meta.clone()));
        }
        Value::Object(m)
    }

    /// One JSONL line (without the trailing newline).
    pub fn to_json_line(&self) -> String {
        self.to_json().to_string()
    }

    /// Parse and check one item. Every problem found is reported (not just the first); the item is
    /// returned only when there is no error. `file`/`line` locate the problems.
    pub fn from_json(
        v: &Value,
        task: Task,
        file: &str,
        line: usize,
    ) -> (Option<Item>, Vec<Problem>) {
        let mut ps = Vec::new();
        let err = |ps: &mut Vec<Problem>, field: &str, msg: String, fix: &str| {
            ps.push(Problem::error(file, Some(line), Some(field), msg, fix));
        };
        let Some(obj) = v.as_object() else {
            ps.push(Problem::error(
                file,
                Some(line),
                None,
                format!("expected a JSON object, found {}", kind(v)),
                "write one JSON object per line: {\"id\": ..., \"question\": ..., \"options\": [...], \"answer\": ...}",
            ));
            return (None, ps);
        };

        for k in obj.keys() {
            if !ITEM_FIELDS.contains(&k.as_str()) {
                ps.push(Problem::warning(
                    file,
                    Some(line),
                    Some(k),
                    format!("unknown field `{k}` is ignored"),
                    "move extra source fields into the free-form `meta` object",
                ));
            }
        }

        let string_field = |ps: &mut Vec<Problem>, name: &str, required: bool| -> Option<String> {
            match obj.get(name) {
                None | Some(Value::Null) if required => {
                    err(
                        ps,
                        name,
                        format!("missing required field `{name}`"),
                        "add it as a non-empty string",
                    );
                    None
                }
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if required && s.trim().is_empty() => {
                    err(
                        ps,
                        name,
                        format!("`{name}` is empty"),
                        "give it a non-empty string",
                    );
                    None
                }
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    err(
                        ps,
                        name,
                        format!("`{name}` must be a string, found {}", kind(other)),
                        "write it as a JSON string (quote numbers)",
                    );
                    None
                }
            }
        };
        let id = string_field(&mut ps, "id", true);
        let question = string_field(&mut ps, "question", true);
        let context = string_field(&mut ps, "context", false);
        let subject = string_field(&mut ps, "subject", false);
        let explanation = string_field(&mut ps, "explanation", false);

        let meta = match obj.get("meta") {
            None | Some(Value::Null) => Some(Map::new()),
            Some(Value::Object(m)) => Some(m.clone()),
            Some(other) => {
                err(
                    &mut ps,
                    "meta",
                    format!("`meta` must be an object, found {}", kind(other)),
                    "wrap the value: \"meta\": {\"note\": ...}",
                );
                None
            }
        };

        let options = if task.has_options() {
            check_options(obj, task, file, line, &mut ps)
        } else {
            if let Some(o) = obj.get("options") {
                if !matches!(o, Value::Null) && !o.as_array().is_some_and(|a| a.is_empty()) {
                    err(
                        &mut ps,
                        "options",
                        "a `numeric` item has no options".into(),
                        "remove `options`, or declare the benchmark task as `mcq`",
                    );
                }
            }
            Some(Vec::new())
        };

        let answer = match task {
            Task::Mcq | Task::YesNoMaybe => {
                check_index_answer(obj, options.as_deref(), file, line, &mut ps)
            }
            Task::McqMulti => check_multi_answer(obj, options.as_deref(), file, line, &mut ps),
            Task::Numeric => check_numeric_answer(obj, file, line, &mut ps),
        };
        if task.has_options() {
            for f in ["tolerance", "range"] {
                if obj.contains_key(f) {
                    ps.push(Problem::warning(
                        file,
                        Some(line),
                        Some(f),
                        format!("`{f}` only applies to `numeric` items and is ignored"),
                        "remove it",
                    ));
                }
            }
        }

        let item = match (id, question, options, answer, meta) {
            (Some(id), Some(question), Some(options), Some(answer), Some(meta))
                if !ps.iter().any(Problem::is_error) =>
            {
                Some(Item {
                    id,
                    question,
                    options,
                    answer,
                    context,
                    subject,
                    explanation,
                    meta,
                })
            }
            _ => None,
        };
        (item, ps)
    }
}

fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// A short human name of a JSON value's type.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Normalised option text used to detect duplicates: trimmed, lower-cased, inner whitespace collapsed.
pub fn normalize_text(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn check_options(
    obj: &Map<String, Value>,
    task: Task,
    file: &str,
    line: usize,
    ps: &mut Vec<Problem>,
) -> Option<Vec<String>> {
    let raw = match obj.get("options") {
        None | Some(Value::Null) => {
            let fix = match task {
                Task::YesNoMaybe => "add \"options\": [\"yes\", \"no\", \"maybe\"]",
                _ => "add \"options\": a list of 2-10 answer strings",
            };
            ps.push(Problem::error(
                file,
                Some(line),
                Some("options"),
                "missing required field `options`",
                fix,
            ));
            return None;
        }
        Some(Value::Array(a)) => a,
        Some(other) => {
            ps.push(Problem::error(
                file,
                Some(line),
                Some("options"),
                format!("`options` must be a list of strings, found {}", kind(other)),
                "write the options as a JSON array in display order, e.g. [\"Aspirin\", \"Heparin\", ...]; the letter is implied by position",
            ));
            return None;
        }
    };
    let mut ok = true;
    let mut out = Vec::with_capacity(raw.len());
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (i, o) in raw.iter().enumerate() {
        let field = format!("options[{i}]");
        match o {
            Value::String(s) if s.trim().is_empty() => {
                ps.push(Problem::error(
                    file,
                    Some(line),
                    Some(&field),
                    "option is empty",
                    "remove the empty option or fill in its text",
                ));
                ok = false;
            }
            Value::String(s) => {
                let n = normalize_text(s);
                if let Some((_, j)) = seen.iter().find(|(t, _)| *t == n) {
                    ps.push(Problem::error(
                        file,
                        Some(line),
                        Some(&field),
                        format!("duplicate option: same text as options[{j}] ({s:?})"),
                        "make every option distinct; a duplicated option makes the item ambiguous",
                    ));
                    ok = false;
                }
                seen.push((n, i));
                out.push(s.clone());
            }
            other => {
                ps.push(Problem::error(
                    file,
                    Some(line),
                    Some(&field),
                    format!("option must be a string, found {}", kind(other)),
                    "quote the option text",
                ));
                ok = false;
            }
        }
    }
    match task {
        Task::YesNoMaybe => {
            if raw.len() != 3 || !out.iter().zip(YES_NO_MAYBE).all(|(a, b)| a == b) {
                ps.push(Problem::error(
                    file,
                    Some(line),
                    Some("options"),
                    format!("a `yes_no_maybe` item must have options [\"yes\", \"no\", \"maybe\"], found {}", Value::Array(raw.clone())),
                    "use exactly [\"yes\", \"no\", \"maybe\"] in that order, or declare the task `mcq`",
                ));
                ok = false;
            }
        }
        _ => {
            if raw.len() < MIN_OPTIONS || raw.len() > MAX_OPTIONS {
                ps.push(Problem::error(
                    file,
                    Some(line),
                    Some("options"),
                    format!(
                        "found {} option(s); an `mcq` item needs {MIN_OPTIONS} to {MAX_OPTIONS}",
                        raw.len()
                    ),
                    "give between 2 and 10 options",
                ));
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn check_index_answer(
    obj: &Map<String, Value>,
    options: Option<&[String]>,
    file: &str,
    line: usize,
    ps: &mut Vec<Problem>,
) -> Option<Answer> {
    let n = options.map(<[String]>::len);
    let range_hint = |n: Option<usize>| match n {
        Some(n) if n > 0 => format!("use a 0-based option index between 0 and {}", n - 1),
        _ => "use a 0-based option index (0 = first option)".to_string(),
    };
    match obj.get("answer") {
        None | Some(Value::Null) => {
            ps.push(Problem::error(
                file,
                Some(line),
                Some("answer"),
                "missing required field `answer`",
                range_hint(n),
            ));
            None
        }
        Some(Value::Number(x)) => match x.as_u64() {
            Some(i) => {
                let i = i as usize;
                match n {
                    Some(n) if i >= n => {
                        ps.push(Problem::error(
                            file,
                            Some(line),
                            Some("answer"),
                            format!("answer {i} is out of range for {n} options"),
                            range_hint(Some(n)),
                        ));
                        None
                    }
                    _ => Some(Answer::Index(i)),
                }
            }
            None => {
                ps.push(Problem::error(
                    file,
                    Some(line),
                    Some("answer"),
                    format!("answer {x} is not a non-negative integer"),
                    range_hint(n),
                ));
                None
            }
        },
        Some(Value::String(s)) => {
            let hint = match s.trim().chars().next() {
                Some(c) if s.trim().len() == 1 && c.is_ascii_alphabetic() => {
                    format!(
                        "write the index instead of the letter: \"answer\": {}",
                        (c.to_ascii_uppercase() as u8 - b'A')
                    )
                }
                _ => range_hint(n),
            };
            ps.push(Problem::error(
                file,
                Some(line),
                Some("answer"),
                format!("answer must be a 0-based index, found the string {s:?}"),
                hint,
            ));
            None
        }
        Some(Value::Array(a)) => {
            ps.push(Problem::error(
                file,
                Some(line),
                Some("answer"),
                format!("answer is a list of {} values, but this benchmark's task allows one correct option", a.len()),
                "for items with several correct options set \"task\": \"mcq_multi\" in the manifest (bedside convert --task mcq_multi); otherwise give one 0-based index",
            ));
            None
        }
        Some(other) => {
            ps.push(Problem::error(
                file,
                Some(line),
                Some("answer"),
                format!("answer must be a 0-based index, found {}", kind(other)),
                range_hint(n),
            ));
            None
        }
    }
}

/// `mcq_multi`: a non-empty list of distinct 0-based option indices (a single index is accepted as a
/// one-element set). The set is stored sorted.
fn check_multi_answer(
    obj: &Map<String, Value>,
    options: Option<&[String]>,
    file: &str,
    line: usize,
    ps: &mut Vec<Problem>,
) -> Option<Answer> {
    let n = options.map(<[String]>::len);
    let fix = match n {
        Some(n) if n > 0 => format!(
            "write the correct options as a list of 0-based indices between 0 and {}, e.g. \"answer\": [0, 2]",
            n - 1
        ),
        _ => "write the correct options as a list of 0-based indices, e.g. \"answer\": [0, 2]".to_string(),
    };
    let mut error = |msg: String| {
        ps.push(Problem::error(file, Some(line), Some("answer"), msg, &fix));
        None
    };
    let raw: Vec<Value> = match obj.get("answer") {
        None | Some(Value::Null) => return error("missing required field `answer`".into()),
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Number(_)) => vec![v.clone()],
        Some(other) => {
            return error(format!(
                "an `mcq_multi` answer must be a list of option indices, found {}",
                kind(other)
            ))
        }
    };
    if raw.is_empty() {
        return error("the answer list is empty; an item needs at least one correct option".into());
    }
    let mut set = Vec::with_capacity(raw.len());
    for v in &raw {
        let Some(i) = v.as_u64().map(|i| i as usize) else {
            return error(format!("answer list holds {v}, not a non-negative integer"));
        };
        if let Some(n) = n {
            if i >= n {
                return error(format!("answer {i} is out of range for {n} options"));
            }
        }
        if set.contains(&i) {
            return error(format!("answer {i} is listed twice"));
        }
        set.push(i);
    }
    set.sort_unstable();
    Some(Answer::Indices(set))
}

fn check_numeric_answer(
    obj: &Map<String, Value>,
    file: &str,
    line: usize,
    ps: &mut Vec<Problem>,
) -> Option<Answer> {
    let value = match obj.get("answer") {
        Some(Value::Number(x)) => x.as_f64(),
        None | Some(Value::Null) => {
            ps.push(Problem::error(
                file,
                Some(line),
                Some("answer"),
                "missing required field `answer`",
                "give the numeric answer as a JSON number",
            ));
            return None;
        }
        Some(other) => {
            ps.push(Problem::error(
                file,
                Some(line),
                Some("answer"),
                format!("a numeric answer must be a number, found {}", kind(other)),
                "write it as a JSON number, e.g. 12.5",
            ));
            return None;
        }
    }?;
    let tol = obj.get("tolerance").filter(|v| !v.is_null());
    let range = obj.get("range").filter(|v| !v.is_null());
    let accept = match (tol, range) {
        (Some(_), Some(_)) => {
            ps.push(Problem::error(
                file,
                Some(line),
                Some("tolerance"),
                "both `tolerance` and `range` are given",
                "keep exactly one of them",
            ));
            return None;
        }
        (None, None) => {
            ps.push(Problem::error(
                file,
                Some(line),
                Some("tolerance"),
                "a numeric item needs `tolerance` or `range`",
                "add \"tolerance\": 0 for an exact answer, or \"range\": [low, high]",
            ));
            return None;
        }
        (Some(t), None) => match t.as_f64() {
            Some(t) if t >= 0.0 && t.is_finite() => Acceptance::Tolerance(t),
            _ => {
                ps.push(Problem::error(
                    file,
                    Some(line),
                    Some("tolerance"),
                    format!("`tolerance` must be a non-negative number, found {t}"),
                    "write e.g. \"tolerance\": 0.5",
                ));
                return None;
            }
        },
        (None, Some(r)) => match r
            .as_array()
            .map(|a| a.iter().map(Value::as_f64).collect::<Vec<_>>())
        {
            Some(v) if v.len() == 2 && v.iter().all(Option::is_some) => {
                let (lo, hi) = (v[0].unwrap_or_default(), v[1].unwrap_or_default());
                if lo > hi || !(lo <= value && value <= hi) {
                    ps.push(Problem::error(
                        file,
                        Some(line),
                        Some("range"),
                        format!("range [{lo}, {hi}] must satisfy low <= answer ({value}) <= high"),
                        "fix the bounds or the answer",
                    ));
                    return None;
                }
                Acceptance::Range(lo, hi)
            }
            _ => {
                ps.push(Problem::error(
                    file,
                    Some(line),
                    Some("range"),
                    format!("`range` must be [low, high], found {r}"),
                    "write e.g. \"range\": [4.5, 5.5]",
                ));
                return None;
            }
        },
    };
    Some(Answer::Numeric { value, accept })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value, task: Task) -> (Option<Item>, Vec<Problem>) {
        Item::from_json(&v, task, "s.jsonl", 7)
    }

    #[test]
    fn valid_mcq_round_trips() {
        let v = json!({"id": "q1", "question": "Q?", "options": ["a", "b", "c"], "answer": 2, "subject": "anatomy", "meta": {"src": "x"}});
        let (item, ps) = parse(v.clone(), Task::Mcq);
        assert!(ps.is_empty(), "{ps:?}");
        let item = item.unwrap();
        assert_eq!(item.answer, Answer::Index(2));
        assert_eq!(item.to_json(), v);
    }

    #[test]
    fn reports_every_problem_with_field_and_line() {
        let v = json!({"id": 5, "question": "", "options": ["a", " A ", ""], "answer": 9, "colour": "red"});
        let (item, ps) = parse(v, Task::Mcq);
        assert!(item.is_none());
        let fields: Vec<_> = ps
            .iter()
            .map(|p| p.field.clone().unwrap_or_default())
            .collect();
        for f in ["id", "question", "options[1]", "options[2]", "colour"] {
            assert!(fields.contains(&f.to_string()), "missing {f} in {fields:?}");
        }
        assert!(ps.iter().all(|p| p.line == Some(7) && p.file == "s.jsonl"));
    }

    #[test]
    fn answer_out_of_range_names_valid_range() {
        let (_, ps) = parse(
            json!({"id": "a", "question": "q", "options": ["x", "y"], "answer": 2}),
            Task::Mcq,
        );
        assert_eq!(ps.len(), 1);
        assert!(ps[0].message.contains("out of range for 2 options"));
        assert!(ps[0].fix.contains("between 0 and 1"));
    }

    #[test]
    fn letter_answer_suggests_index() {
        let (_, ps) = parse(
            json!({"id": "a", "question": "q", "options": ["x", "y", "z"], "answer": "C"}),
            Task::Mcq,
        );
        assert!(ps[0].fix.contains("\"answer\": 2"), "{}", ps[0].fix);
    }

    #[test]
    fn option_count_limits() {
        let one = json!({"id": "a", "question": "q", "options": ["x"], "answer": 0});
        assert!(parse(one, Task::Mcq).0.is_none());
        let eleven: Vec<String> = (0..11).map(|i| format!("o{i}")).collect();
        assert!(parse(
            json!({"id": "a", "question": "q", "options": eleven, "answer": 0}),
            Task::Mcq
        )
        .0
        .is_none());
    }

    #[test]
    fn yes_no_maybe_options_are_fixed() {
        assert!(parse(
            json!({"id": "a", "question": "q", "options": ["yes", "no", "maybe"], "answer": 1}),
            Task::YesNoMaybe
        )
        .0
        .is_some());
        assert!(parse(
            json!({"id": "a", "question": "q", "options": ["no", "yes", "maybe"], "answer": 1}),
            Task::YesNoMaybe
        )
        .0
        .is_none());
    }

    #[test]
    fn numeric_answers() {
        let (item, _) = parse(
            json!({"id": "a", "question": "q", "answer": 5.0, "tolerance": 0.5}),
            Task::Numeric,
        );
        let item = item.unwrap();
        assert!(item.answer.accepts_number(5.4) && !item.answer.accepts_number(5.6));
        let (item, _) = parse(
            json!({"id": "a", "question": "q", "answer": 5.0, "range": [4.0, 7.0]}),
            Task::Numeric,
        );
        assert!(item.unwrap().answer.accepts_number(6.9));
        assert!(parse(
            json!({"id": "a", "question": "q", "answer": 5.0}),
            Task::Numeric
        )
        .0
        .is_none());
        assert!(parse(
            json!({"id": "a", "question": "q", "answer": 9.0, "range": [4.0, 7.0]}),
            Task::Numeric
        )
        .0
        .is_none());
        assert!(parse(
            json!({"id": "a", "question": "q", "answer": "5"}),
            Task::Numeric
        )
        .0
        .is_none());
    }
}
