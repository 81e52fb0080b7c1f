//! Field paths: how `--map` and `--id` name a value inside a record.
//!
//! - `stem`: a field of the record (a column name that exists verbatim always wins, so CSV headers with
//!   dots keep working);
//! - `meta.source`: a field of a nested object; `options[2]`: an element of a list;
//! - `choices[].text`: the `text` of every element of the list `choices`, in list order;
//!   `choices[n].text`: the same, ordered by each element's field `n`;
//! - `..topic`: a field of an enclosing object (the nearest one that has it) of a record found inside a
//!   JSON document;
//! - a name bound by the record path (`sections.{section}.questions` binds `section` to each key).

use super::records::Row;
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    /// `[]`: every element, in order.
    Each,
    /// `[field]`: every element, ordered by `field`.
    EachBy(String),
}

/// A parsed field path.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    raw: String,
    enclosing: bool,
    steps: Vec<Step>,
}

impl FieldPath {
    pub fn parse(s: &str) -> Result<FieldPath, String> {
        let raw = s.trim().to_string();
        let (enclosing, body) = match raw.strip_prefix("..") {
            Some(b) => (true, b),
            None => (false, raw.as_str()),
        };
        let mut steps = Vec::new();
        for part in body.split('.') {
            let (name, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if name.is_empty() && (steps.is_empty() || rest.is_empty()) {
                return Err(format!(
                    "field path `{raw}`: empty name (write e.g. `choices[].text` or `..topic`)"
                ));
            }
            if !name.is_empty() {
                steps.push(Step::Key(name.to_string()));
            }
            while let Some(r) = rest.strip_prefix('[') {
                let end = r
                    .find(']')
                    .ok_or_else(|| format!("field path `{raw}`: `[` without `]`"))?;
                let inner = r[..end].trim();
                steps.push(if inner.is_empty() {
                    Step::Each
                } else if let Ok(i) = inner.parse::<usize>() {
                    Step::Index(i)
                } else {
                    Step::EachBy(inner.to_string())
                });
                rest = &r[end + 1..];
            }
            if !rest.is_empty() {
                return Err(format!(
                    "field path `{raw}`: unexpected `{rest}` (write `list[].field`)"
                ));
            }
        }
        if steps.is_empty() {
            return Err(format!("field path `{raw}` names nothing"));
        }
        Ok(FieldPath {
            raw,
            enclosing,
            steps,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The first key of the path (the column it reads), for `meta` bookkeeping.
    pub fn root_key(&self) -> Option<&str> {
        match self.steps.first() {
            Some(Step::Key(k)) if !self.enclosing => Some(k),
            _ => None,
        }
    }

    /// The value this path names in `row`, if any. Projections (`[]`) give a list.
    pub fn get(&self, row: &Row) -> Option<Value> {
        if !self.enclosing {
            if let Some(v) = row.fields.get(&self.raw) {
                return Some(v.clone());
            }
        }
        let Some(Step::Key(first)) = self.steps.first() else {
            return None;
        };
        let start = if self.enclosing {
            row.enclosing.iter().find_map(|m| m.get(first))?.clone()
        } else if let Some(v) = row.fields.get(first) {
            v.clone()
        } else if self.steps.len() == 1 {
            let (_, key) = row.bindings.iter().find(|(n, _)| n == first)?;
            return Some(Value::String(key.clone()));
        } else {
            return None;
        };
        walk(&start, &self.steps[1..])
    }
}

fn walk(v: &Value, steps: &[Step]) -> Option<Value> {
    let Some((step, rest)) = steps.split_first() else {
        return Some(v.clone());
    };
    match step {
        Step::Key(k) => walk(v.as_object()?.get(k)?, rest),
        Step::Index(i) => walk(v.as_array()?.get(*i)?, rest),
        Step::Each => Some(Value::Array(
            v.as_array()?
                .iter()
                .map(|x| walk(x, rest).unwrap_or(Value::Null))
                .collect(),
        )),
        Step::EachBy(f) => {
            let mut elems: Vec<&Value> = v.as_array()?.iter().collect();
            elems.sort_by(|a, b| order_key(a.get(f)).cmp_with(&order_key(b.get(f))));
            Some(Value::Array(
                elems
                    .into_iter()
                    .map(|x| walk(x, rest).unwrap_or(Value::Null))
                    .collect(),
            ))
        }
    }
}

/// Sort key of an ordering field: numbers (also numeric strings) before text, missing last.
enum OrderKey {
    Num(f64),
    Text(String),
    Missing,
}

impl OrderKey {
    fn cmp_with(&self, o: &OrderKey) -> Ordering {
        use OrderKey::*;
        match (self, o) {
            (Num(a), Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (Text(a), Text(b)) => a.cmp(b),
            (Num(_), _) | (Text(_), Missing) => Ordering::Less,
            (Missing, Missing) => Ordering::Equal,
            _ => Ordering::Greater,
        }
    }
}

fn order_key(v: Option<&Value>) -> OrderKey {
    match v {
        Some(Value::Number(n)) => n.as_f64().map_or(OrderKey::Missing, OrderKey::Num),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(OrderKey::Num)
            .unwrap_or_else(|_| OrderKey::Text(s.trim().to_lowercase())),
        _ => OrderKey::Missing,
    }
}

/// An id template such as `{section}-{n}`: literal text with `{field path}` placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct IdTemplate {
    raw: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Field(FieldPath),
}

impl IdTemplate {
    pub fn parse(s: &str) -> Result<IdTemplate, String> {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(i) = rest.find('{') {
            if i > 0 {
                parts.push(Part::Text(rest[..i].to_string()));
            }
            let end = rest[i..]
                .find('}')
                .ok_or_else(|| format!("--id {s:?}: `{{` without `}}`"))?;
            let inner = &rest[i + 1..i + end];
            parts.push(Part::Field(
                FieldPath::parse(inner).map_err(|e| format!("--id {s:?}: {e}"))?,
            ));
            rest = &rest[i + end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Field(_))) {
            return Err(format!(
                "--id {s:?} has no {{field}}; every item would get the same id (write e.g. --id '{{section}}-{{n}}')"
            ));
        }
        Ok(IdTemplate {
            raw: s.to_string(),
            parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The id of `row`, or the reason it cannot be made.
    pub fn render(&self, row: &Row) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => match f.get(row).as_ref().and_then(scalar_text) {
                    Some(t) => out.push_str(&t),
                    None => {
                        return Err(format!(
                            "id template: `{{{}}}` is missing or not a single value",
                            f.as_str()
                        ))
                    }
                },
            }
        }
        Ok(out)
    }
}

/// A string, number or boolean as text (trimmed); `None` for other values and empty strings.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Row {
        let mut r = Row::new(v.as_object().unwrap().clone(), "1".into(), 1);
        r.enclosing = vec![json!({"topic": "Virology"}).as_object().unwrap().clone()];
        r.bindings = vec![("section".into(), "virology".into())];
        r
    }

    #[test]
    fn paths_reach_nested_listed_enclosing_and_bound_values() {
        let r = row(json!({"n": 2, "a.b": "dotted", "meta": {"src": "x"},
            "choices": [{"n": 2, "text": "two"}, {"n": 10, "text": "ten"}, {"n": 1, "text": "one"}]}));
        let get = |p: &str| FieldPath::parse(p).unwrap().get(&r);
        assert_eq!(get("a.b"), Some(json!("dotted")));
        assert_eq!(get("meta.src"), Some(json!("x")));
        assert_eq!(get("choices[1].text"), Some(json!("ten")));
        assert_eq!(get("choices[].text"), Some(json!(["two", "ten", "one"])));
        assert_eq!(get("choices[n].text"), Some(json!(["one", "two", "ten"])));
        assert_eq!(get("..topic"), Some(json!("Virology")));
        assert_eq!(get("section"), Some(json!("virology")));
        assert_eq!(get("missing"), None);
        let t = IdTemplate::parse("{section}-{n}").unwrap();
        assert_eq!(t.render(&r).unwrap(), "virology-2");
        assert!(IdTemplate::parse("fixed")
            .unwrap_err()
            .contains("no {field}"));
        assert!(IdTemplate::parse("{nope}").unwrap().render(&r).is_err());
        assert!(FieldPath::parse("choices[.text").is_err());
    }
}
