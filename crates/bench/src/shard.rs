//! Reading one shard file (JSON Lines) into items, with line-numbered problems.

use crate::item::Item;
use crate::manifest::strip_bom;
use crate::problem::Problem;
use crate::task::Task;

/// An item together with the 1-based line it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct LineItem {
    pub line: usize,
    pub item: Item,
}

/// The result of reading one shard.
#[derive(Debug, Default)]
pub struct ParsedShard {
    pub items: Vec<LineItem>,
    /// Non-blank lines, whether or not they parsed (what the manifest's `items` counts).
    pub records: usize,
    pub problems: Vec<Problem>,
}

/// Parse every line of a JSONL shard. Never panics, whatever the bytes.
pub fn parse_shard(file: &str, bytes: &[u8], task: Task) -> ParsedShard {
    let mut out = ParsedShard::default();
    let bytes = strip_bom(bytes);
    let mut blank_inside = Vec::new();
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let last = lines.len();
    for (i, raw) in lines.into_iter().enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            if line != last {
                blank_inside.push(line);
            }
            continue;
        }
        out.records += 1;
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                out.problems.push(Problem::error(
                    file,
                    Some(line),
                    None,
                    format!(
                        "line is not valid UTF-8 (bad byte at column {})",
                        e.valid_up_to() + 1
                    ),
                    "re-save the file as UTF-8",
                ));
                continue;
            }
        };
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                out.problems.push(Problem::error(
                    file,
                    Some(line),
                    None,
                    format!("invalid JSON at column {}: {e}", e.column()),
                    "each line must be one complete JSON object (no line breaks inside an item, no trailing commas)",
                ));
                continue;
            }
        };
        let (item, ps) = Item::from_json(&value, task, file, line);
        out.problems.extend(ps);
        if let Some(item) = item {
            out.items.push(LineItem { line, item });
        }
    }
    if !blank_inside.is_empty() {
        let shown: Vec<String> = blank_inside.iter().take(5).map(usize::to_string).collect();
        out.problems.push(Problem::warning(
            file,
            Some(blank_inside[0]),
            None,
            format!(
                "{} blank line(s) ignored (lines {}{})",
                blank_inside.len(),
                shown.join(", "),
                if blank_inside.len() > 5 { ", ..." } else { "" }
            ),
            "remove blank lines so line numbers match item positions",
        ));
    }
    out
}

/// Serialise items as a JSONL shard.
pub fn write_shard(items: &[Item]) -> Vec<u8> {
    let mut s = String::new();
    for it in items {
        s.push_str(&it.to_json_line());
        s.push('\n');
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_count_blank_and_bad_lines() {
        let data = b"{\"id\":\"a\",\"question\":\"q\",\"options\":[\"x\",\"y\"],\"answer\":0}\n\nnot json\r\n{\"id\":\"b\",\"question\":\"q\",\"options\":[\"x\",\"y\"],\"answer\":3}\n";
        let p = parse_shard("t.jsonl", data, Task::Mcq);
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.records, 3);
        let lines: Vec<_> = p.problems.iter().map(|p| (p.line, p.is_error())).collect();
        assert!(lines.contains(&(Some(3), true)), "{lines:?}");
        assert!(lines.contains(&(Some(4), true)), "{lines:?}");
        assert!(lines.contains(&(Some(2), false)), "{lines:?}");
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let p = parse_shard("t.jsonl", b"{\"id\": \"\xff\"}\n", Task::Mcq);
        assert!(p.problems[0].message.contains("UTF-8"));
    }

    #[test]
    fn write_then_parse_is_identity() {
        let items = vec![Item::choice("1", "q", vec!["a".into(), "b".into()], 1)];
        let p = parse_shard("t.jsonl", &write_shard(&items), Task::Mcq);
        assert_eq!(
            p.items.into_iter().map(|l| l.item).collect::<Vec<_>>(),
            items
        );
        assert!(p.problems.is_empty());
    }
}
