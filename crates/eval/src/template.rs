//! Prompt templates. Each reproduces one lm-eval-harness task byte for byte (see `docs/prompts.md`), so
//! Bedside's numbers are comparable with numbers people already have:
//!
//! | template   | lm-eval task      | text                                                           | choices           |
//! |------------|-------------------|----------------------------------------------------------------|-------------------|
//! | `medqa`    | `medqa_4options`  | `Question: {q}\nA. {a}\n...\nAnswer:`                           | letters           |
//! | `medmcqa`  | `medmcqa`         | `Question: {q}\nChoices:\nA. {a}\n...\nAnswer:`                 | letters           |
//! | `pubmedqa` | `pubmedqa`        | `Abstract: {context}\nQuestion: {q}\nAnswer:`                   | `yes`/`no`/`maybe` |
//! | `mmlu`     | `mmlu_<subject>`  | description + `{q.strip()}\nA. {a}\n...\nAnswer:`               | letters           |
//! | `generic`  | (none)            | like `medqa`, with a `Context:` line when the item has one      | letters           |
//! | `cloze`    | (none)            | `{Context: c\n}Question: {q}\nAnswer:`, no options shown          | option texts      |
//!
//! `cloze` is the cloze formulation ("OLMES: A Standard for Language Model Evaluations", Gu et al.,
//! Findings of NAACL 2025): each option's own text is scored as the continuation, which small models that
//! cannot yet map a letter to an answer handle far better than the letter formulation.
//! lm-eval's tasks are fixed at 4 options; Bedside extends the letter lists to the item's option count.

use bedside_bench::task::{option_letter, Task};
use bedside_bench::Item;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    Medqa,
    Medmcqa,
    Pubmedqa,
    Mmlu,
    Generic,
    Cloze,
}

/// lm-eval's default `target_delimiter`: put between the context and a choice.
pub const TARGET_DELIMITER: &str = " ";
/// lm-eval's default `fewshot_delimiter`: put between examples.
pub const FEWSHOT_DELIMITER: &str = "\n\n";

/// Added before `Answer:` for items with several correct options (`mcq_multi`).
pub const MULTI_INSTRUCTION: &str =
    "More than one option may be correct. Answer with the letters of all correct options, e.g. A, C.\n";

impl Template {
    pub const ALL: [Template; 6] = [
        Template::Medqa,
        Template::Medmcqa,
        Template::Pubmedqa,
        Template::Mmlu,
        Template::Generic,
        Template::Cloze,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Template::Medqa => "medqa",
            Template::Medmcqa => "medmcqa",
            Template::Pubmedqa => "pubmedqa",
            Template::Mmlu => "mmlu",
            Template::Generic => "generic",
            Template::Cloze => "cloze",
        }
    }

    /// The lm-eval-harness task this template reproduces.
    pub fn lm_eval_task(self) -> Option<&'static str> {
        match self {
            Template::Medqa => Some("medqa_4options"),
            Template::Medmcqa => Some("medmcqa"),
            Template::Pubmedqa => Some("pubmedqa"),
            Template::Mmlu => Some("mmlu_<subject>"),
            Template::Generic | Template::Cloze => None,
        }
    }

    /// Pick the template for a benchmark from its manifest: `yes_no_maybe` tasks use `pubmedqa`; otherwise
    /// the dataset named in the benchmark's name or source (medmcqa before medqa, since one contains the
    /// other); otherwise `generic`.
    pub fn auto(task: Task, name: &str, source: &str) -> Template {
        let hay = format!("{name} {source}").to_lowercase();
        if task == Task::YesNoMaybe || hay.contains("pubmedqa") {
            Template::Pubmedqa
        } else if hay.contains("medmcqa") {
            Template::Medmcqa
        } else if hay.contains("medqa") {
            Template::Medqa
        } else if hay.contains("mmlu") {
            Template::Mmlu
        } else {
            Template::Generic
        }
    }

    /// Whether the template can present `item` as lm-eval does: `medqa` and `medmcqa` are 4-option tasks.
    pub fn fits(self, item: &Item) -> bool {
        match self {
            Template::Medqa | Template::Medmcqa => item.options.len() == 4,
            _ => true,
        }
    }

    /// The template for `--format`: `auto` picks from the manifest (falling back to `generic` when the
    /// dataset's template does not fit every item); a named template must fit every item, else a clear
    /// error naming the first item that does not.
    pub fn resolve(format: &str, bench: &bedside_bench::Benchmark) -> Result<Template, String> {
        let m = &bench.manifest;
        if format == "auto" {
            let t = Template::auto(m.task, &m.name, &m.source);
            return Ok(if bench.all_items().all(|(_, li)| t.fits(&li.item)) {
                t
            } else {
                Template::Generic
            });
        }
        let t: Template = format.parse()?;
        if let Some((shard, li)) = bench.all_items().find(|(_, li)| !t.fits(&li.item)) {
            return Err(format!(
                "{}:{}: item `{}` has {} options, but --format {t} reproduces lm-eval's 4-option `{}` task; use --format generic (or auto)",
                shard.entry.file,
                li.line,
                li.item.id,
                li.item.options.len(),
                t.lm_eval_task().unwrap_or_default()
            ));
        }
        Ok(t)
    }

    /// The text of one item, ending with `Answer:` (lm-eval's `doc_to_text`).
    pub fn doc_to_text(self, item: &Item) -> String {
        let letters = |out: &mut String| {
            for (i, o) in item.options.iter().enumerate() {
                out.push_str(&format!("{}. {}\n", option_letter(i), o));
            }
        };
        let mut s = String::new();
        match self {
            Template::Medqa => {
                s.push_str(&format!("Question: {}\n", item.question));
                letters(&mut s);
            }
            Template::Medmcqa => {
                s.push_str(&format!("Question: {}\nChoices:\n", item.question));
                letters(&mut s);
            }
            Template::Pubmedqa => {
                s.push_str(&format!(
                    "Abstract: {}\nQuestion: {}\n",
                    item.context.as_deref().unwrap_or(""),
                    item.question
                ));
            }
            Template::Mmlu => {
                s.push_str(item.question.trim());
                s.push('\n');
                letters(&mut s);
            }
            Template::Cloze => {
                if let Some(c) = &item.context {
                    s.push_str(&format!("Context: {c}\n"));
                }
                s.push_str(&format!("Question: {}\n", item.question));
            }
            Template::Generic => {
                if let Some(c) = &item.context {
                    s.push_str(&format!("Context: {c}\n"));
                }
                s.push_str(&format!("Question: {}\n", item.question));
                letters(&mut s);
            }
        }
        if matches!(item.answer, bedside_bench::Answer::Indices(_)) {
            s.push_str(MULTI_INSTRUCTION);
        }
        s.push_str("Answer:");
        s
    }

    /// The gold answer of a few-shot example as written after `Answer:` (the letters of every correct
    /// option, `A, C`, for `mcq_multi`).
    pub fn gold_text(self, item: &Item) -> String {
        match &item.answer {
            bedside_bench::Answer::Indices(v) => v
                .iter()
                .map(|&i| option_letter(i).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            a => self
                .choices(item)
                .get(a.index().unwrap_or(0))
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// The strings scored as continuations (lm-eval's `doc_to_choice`), one per option.
    pub fn choices(self, item: &Item) -> Vec<String> {
        self.choices_for(&item.options)
    }

    /// [`Template::choices`] for options as presented (a record's `presented`).
    pub fn choices_for(self, options: &[String]) -> Vec<String> {
        match self {
            Template::Pubmedqa | Template::Cloze => options.to_vec(),
            _ => (0..options.len())
                .map(|i| option_letter(i).to_string())
                .collect(),
        }
    }

    /// Text put before everything else (lm-eval's `description`): MMLU names the subject.
    pub fn description(self, item: &Item) -> String {
        match (self, &item.subject) {
            (Template::Mmlu, Some(s)) => {
                format!(
                    "The following are multiple choice questions (with answers) about {}.\n\n",
                    s.replace('_', " ")
                )
            }
            _ => String::new(),
        }
    }

    /// Whether few-shot examples come from the same subject in pool order (lm-eval's MMLU `first_n`
    /// sampler) rather than a seeded sample.
    pub fn shots_first_n_same_subject(self) -> bool {
        self == Template::Mmlu
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Template {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Template::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown format `{s}`; expected one of: medqa, medmcqa, pubmedqa, mmlu, generic, auto"))
    }
}
