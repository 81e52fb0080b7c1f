//! Turning an item (plus few-shot examples) into what the model sees: the context text and the
//! continuations to score, built the way lm-eval-harness builds them.
//!
//! Context = description + each example (`text + " " + gold choice`) followed by `"\n\n"` + the item's
//! text. With `--chat`, the whole context becomes one user message rendered with the model's own chat
//! template (with the generation prompt), and choices follow it with no delimiter (lm-eval's behaviour
//! under `--apply_chat_template`).

use crate::template::{Template, FEWSHOT_DELIMITER, TARGET_DELIMITER};
use bedside_bench::Item;

/// The chain-of-thought cue appended after `Answer:` when generating with `--cot`.
pub const COT_CUE: &str = " Let's think step by step.";

/// The prompt for one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// The full context text (after chat rendering, if any).
    pub context: String,
    /// One continuation per option, delimiter included.
    pub continuations: Vec<String>,
    /// The choice strings themselves (their character counts normalise `acc_norm`).
    pub choices: Vec<String>,
}

/// A function rendering one user message with the model's chat template (with the generation prompt).
pub type ChatRenderer<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// Build the plain (non-chat) context: description, examples, the item's text.
pub fn plain_context(template: Template, item: &Item, shots: &[&Item]) -> String {
    let mut s = template.description(item);
    for ex in shots {
        let choice = template.gold_text(ex);
        s.push_str(&template.doc_to_text(ex));
        s.push_str(TARGET_DELIMITER);
        s.push_str(&choice);
        s.push_str(FEWSHOT_DELIMITER);
    }
    s.push_str(&template.doc_to_text(item));
    s
}

/// The continuations scored for `choices`: each after lm-eval's target delimiter, or as is under a chat
/// template (whose assistant turn already ends the context).
pub fn with_delimiter(choices: &[String], chat: bool) -> Vec<String> {
    let delim = if chat { "" } else { TARGET_DELIMITER };
    choices.iter().map(|c| format!("{delim}{c}")).collect()
}

/// Build the prompt for scoring (`loglik`/`letter`) or generation (`cot` adds the reasoning cue).
pub fn build(
    template: Template,
    item: &Item,
    shots: &[&Item],
    chat: Option<ChatRenderer>,
    cot: bool,
) -> Result<Prompt, String> {
    let mut plain = plain_context(template, item, shots);
    if cot {
        plain.push_str(COT_CUE);
    }
    let choices = template.choices(item);
    let context = match chat {
        Some(render) => render(&plain)?,
        None => plain,
    };
    let continuations = with_delimiter(&choices, chat.is_some());
    Ok(Prompt {
        context,
        continuations,
        choices,
    })
}

/// lm-eval's `_encode_pair` rule: trailing whitespace of the context moves to the continuation.
pub fn split_trailing_space(context: &str, continuation: &str) -> (String, String) {
    let trimmed = context.trim_end();
    let moved = &context[trimmed.len()..];
    (trimmed.to_string(), format!("{moved}{continuation}"))
}
