//! Probes: item transformations that show *why* a multiple-choice score can mislead. A probe turns one
//! item into the variant(s) the model is actually asked, with the gold answer remapped and what was
//! changed kept (the option order, an injected sentence, the option it suggests), so a probed run pairs
//! with the plain run item by item. One probe per file; [`Probe`] is the typed name with its parameters
//! that goes into a run's configuration (and so its hash) as its canonical text, e.g. `shuffle:3`.

pub mod bias;
pub mod choices_only;
pub mod circular;
pub mod nota;
pub mod position;
pub mod shuffle;
pub mod truncate;

use crate::item::Item;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

pub use bias::Bias;
pub use nota::NotaMode;

/// A probe with its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Probe {
    /// `shuffle` or `shuffle:k`: k seeded random orders of the options (variants `<id>#p1..k` when k > 1).
    Shuffle { k: usize },
    /// `circular`: every cyclic rotation of the options (CircularEval), variants `<id>#r0..`.
    Circular,
    /// `position`: every rotation plus a content-free variant (`<id>#cf`, options replaced by
    /// placeholders): the model's answer-position prior, and the accuracy after removing it (PriDe).
    Position,
    /// `choices_only`: the question (and context) removed.
    ChoicesOnly,
    /// `nota:gold` (alias `none_of_the_above`) or `nota:distractor`.
    Nota(NotaMode),
    /// `bias:<name>` or `bias:all` (`None`: one variant per bias, `<id>#<name>`).
    Bias(Option<Bias>),
    /// `truncate` or `truncate:p`: only the first p% of the question's words (default 20).
    Truncate { percent: u8 },
}

/// Every probe form, with what it does (CLI help, the app's menu, errors).
pub const PROBE_FORMS: [(&str, &str); 7] = [
    ("shuffle[:k]", "k seeded random option orders (default 1)"),
    ("circular", "every cyclic rotation of the options (CircularEval)"),
    ("position", "answer-position prior: every rotation plus a content-free item; PriDe-debiased accuracy"),
    ("choices_only", "the question removed; above chance means the options leak the answer"),
    ("nota:gold|distractor", "\"None of the above\" replaces the gold option (and becomes gold) or a distractor"),
    ("bias:<name>|all", "a sentence favouring a wrong option (self_diagnosis, recency, confirmation, frequency, cultural, status_quo, false_consensus)"),
    ("truncate[:p]", "only the first p% of the question's words (default 20)"),
];

/// The default share of words kept by `truncate`.
pub const DEFAULT_TRUNCATE: u8 = 20;

/// Probes the app offers in its menu (canonical text), in order.
pub fn menu() -> Vec<String> {
    let mut out: Vec<String> = [
        "shuffle",
        "shuffle:3",
        "circular",
        "position",
        "choices_only",
        "nota:gold",
        "nota:distractor",
    ]
    .iter()
    .map(|s| Probe::parse(s).expect("menu probes parse").to_string())
    .collect();
    out.extend(Bias::ALL.iter().map(|b| format!("bias:{}", b.name())));
    out.push("bias:all".into());
    out.push("truncate:20".into());
    out.push("truncate:50".into());
    out
}

impl Probe {
    /// Parse the command-line form (`shuffle:3`, `nota:distractor`, `bias:recency`, `truncate:30`).
    pub fn parse(s: &str) -> Result<Probe, String> {
        let s = s.trim();
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let bad = |why: String| {
            Err(format!(
                "probe `{s}`: {why}; the probes are: {}",
                PROBE_FORMS.map(|(f, _)| f).join(", ")
            ))
        };
        match (name, arg) {
            ("shuffle", None) => Ok(Probe::Shuffle { k: 1 }),
            ("shuffle", Some(k)) => match k.parse::<usize>() {
                Ok(k) if (1..=24).contains(&k) => Ok(Probe::Shuffle { k }),
                _ => bad(format!("`{k}` is not a number of orders from 1 to 24")),
            },
            ("circular", None) => Ok(Probe::Circular),
            ("position", None) => Ok(Probe::Position),
            ("choices_only", None) => Ok(Probe::ChoicesOnly),
            ("none_of_the_above", None) | ("nota", None) => Ok(Probe::Nota(NotaMode::Gold)),
            ("nota", Some("gold")) => Ok(Probe::Nota(NotaMode::Gold)),
            ("nota", Some("distractor")) => Ok(Probe::Nota(NotaMode::Distractor)),
            ("nota", Some(m)) => bad(format!(
                "`{m}` is not a mode: use nota:gold or nota:distractor"
            )),
            ("bias", Some("all")) => Ok(Probe::Bias(None)),
            ("bias", Some(b)) => match Bias::parse(b) {
                Some(b) => Ok(Probe::Bias(Some(b))),
                None => bad(format!(
                    "`{b}` is not a bias: use one of {} or all",
                    Bias::ALL.map(|b| b.name()).join(", ")
                )),
            },
            ("bias", None) => bad("name the bias (bias:recency) or use bias:all".into()),
            ("truncate", None) => Ok(Probe::Truncate {
                percent: DEFAULT_TRUNCATE,
            }),
            ("truncate", Some(p)) => match p.trim_end_matches('%').parse::<u8>() {
                Ok(p) if (1..=99).contains(&p) => Ok(Probe::Truncate { percent: p }),
                _ => bad(format!("`{p}` is not a percentage from 1 to 99")),
            },
            ("circular" | "position" | "choices_only" | "none_of_the_above", Some(a)) => {
                bad(format!("`{name}` takes no parameter (got `{a}`)"))
            }
            _ => bad("unknown probe".into()),
        }
    }

    /// Variants per item this probe makes (for `n` options).
    pub fn variants_per_item(&self, n: usize) -> usize {
        match self {
            Probe::Shuffle { k } => *k,
            Probe::Circular => n,
            Probe::Position => n + 1,
            Probe::Bias(None) => Bias::ALL.len(),
            _ => 1,
        }
    }

    /// Apply the probe to each variant so far (start from [`Variant::plain`]); `seed` makes randomised
    /// probes reproducible (mixed with the item id). A variant the probe does not apply to (an item
    /// without options, a none-of-the-above item under `nota`) is left out.
    pub fn apply(&self, v: &Variant, seed: u64) -> Vec<Variant> {
        let Some(_gold) = v.item.answer.index() else {
            return Vec::new();
        };
        match *self {
            Probe::Shuffle { k: 1 } => shuffle::shuffle_order(&v.item, seed)
                .map(|o| v.reorder(&o, None))
                .into_iter()
                .collect(),
            Probe::Shuffle { k } => (1..=k)
                .filter_map(|j| {
                    shuffle::shuffle_order(&v.item, shuffle::variant_seed(seed, j))
                        .map(|o| v.reorder(&o, Some(format!("p{j}"))))
                })
                .collect(),
            Probe::Circular => circular::rotations(v.item.options.len())
                .into_iter()
                .enumerate()
                .map(|(r, o)| v.reorder(&o, Some(format!("r{r}"))))
                .collect(),
            Probe::Position => {
                let mut out: Vec<Variant> = circular::rotations(v.item.options.len())
                    .into_iter()
                    .enumerate()
                    .map(|(r, o)| v.reorder(&o, Some(format!("r{r}"))))
                    .collect();
                let mut cf = v.with_tag(Some(position::CONTENT_FREE_TAG.into()));
                cf.item.options = position::content_free(&v.item).options;
                out.push(cf);
                out
            }
            Probe::ChoicesOnly => choices_only::choices_only(&v.item)
                .map(|item| Variant { item, ..v.clone() })
                .into_iter()
                .collect(),
            Probe::Nota(mode) => nota::nota(&v.item, mode, seed)
                .map(|(item, _)| Variant { item, ..v.clone() })
                .into_iter()
                .collect(),
            Probe::Bias(Some(b)) => bias::inject(&v.item, b, seed)
                .map(|inj| v.biased(inj, None))
                .into_iter()
                .collect(),
            Probe::Bias(None) => Bias::ALL
                .iter()
                .filter_map(|&b| {
                    bias::inject(&v.item, b, seed).map(|inj| v.biased(inj, Some(b.name().into())))
                })
                .collect(),
            Probe::Truncate { percent } => {
                let mut out = v.clone();
                out.item.question = truncate::first_words(&v.item.question, percent);
                vec![out]
            }
        }
    }
}

impl fmt::Display for Probe {
    /// The canonical text (what `parse` reads and the configuration stores).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::Shuffle { k: 1 } => f.write_str("shuffle"),
            Probe::Shuffle { k } => write!(f, "shuffle:{k}"),
            Probe::Circular => f.write_str("circular"),
            Probe::Position => f.write_str("position"),
            Probe::ChoicesOnly => f.write_str("choices_only"),
            // Written as Bedside 0.1 wrote it, so runs made then keep their configuration hash.
            Probe::Nota(NotaMode::Gold) => f.write_str("none_of_the_above"),
            Probe::Nota(m) => write!(f, "nota:{}", m.name()),
            Probe::Bias(Some(b)) => write!(f, "bias:{}", b.name()),
            Probe::Bias(None) => f.write_str("bias:all"),
            Probe::Truncate { percent } => write!(f, "truncate:{percent}"),
        }
    }
}

impl Serialize for Probe {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Probe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Probe::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A sentence added to an item by a probe, and the option it argues for.
#[derive(Debug, Clone, PartialEq)]
pub struct Injection {
    pub item: Item,
    pub text: String,
    /// The option the sentence favours, as an index into the item's options.
    pub suggested: usize,
}

/// One item as a probe made it, with what was changed. The item's id is the variant's id (`<id>#p2`
/// for a probe making several variants; the source id otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub item: Item,
    /// The id of the item in the benchmark.
    pub source_id: String,
    /// `order[i]`: which option of the source item is shown at position `i`.
    pub order: Vec<usize>,
    /// A sentence a probe added to the question.
    pub injected: Option<String>,
    /// The option the injected sentence favours (index in the order shown).
    pub suggested: Option<usize>,
}

impl Variant {
    /// The item as the benchmark has it.
    pub fn plain(item: Item) -> Variant {
        Variant {
            source_id: item.id.clone(),
            order: (0..item.options.len()).collect(),
            item,
            injected: None,
            suggested: None,
        }
    }

    /// Whether the options are shown in the source order.
    pub fn in_source_order(&self) -> bool {
        self.order.iter().enumerate().all(|(i, &o)| i == o)
    }

    fn with_tag(&self, tag: Option<String>) -> Variant {
        let mut v = self.clone();
        if let Some(t) = tag {
            v.item.id = format!("{}#{t}", v.item.id);
        }
        v
    }

    /// The options shown in `perm` order (`perm[i]`: current position shown at `i`), gold and
    /// suggestion following their options.
    fn reorder(&self, perm: &[usize], tag: Option<String>) -> Variant {
        let mut v = self.with_tag(tag);
        v.item.options = perm.iter().map(|&i| self.item.options[i].clone()).collect();
        if let Some(g) = self.item.answer.index() {
            v.item.answer =
                crate::item::Answer::Index(perm.iter().position(|&i| i == g).unwrap_or(g));
        }
        v.order = perm.iter().map(|&i| self.order[i]).collect();
        v.suggested = self
            .suggested
            .and_then(|s| perm.iter().position(|&i| i == s));
        v
    }

    fn biased(&self, inj: Injection, tag: Option<String>) -> Variant {
        let mut v = self.with_tag(tag);
        v.item.question = inj.item.question;
        v.injected = Some(match &self.injected {
            Some(t) => format!("{t} {}", inj.text),
            None => inj.text,
        });
        v.suggested = Some(inj.suggested);
        v
    }
}

/// Apply probes in order to an item; `Err` names an unknown probe. No variant when a probe does not
/// apply.
pub fn apply_all(probes: &[Probe], item: Item, seed: u64) -> Vec<Variant> {
    let mut vs = vec![Variant::plain(item)];
    for p in probes {
        vs = vs.iter().flat_map(|v| p.apply(v, seed)).collect();
    }
    vs
}

/// A generator seeded by `seed` and an item id (per-item reproducible randomness).
pub(crate) fn item_rng(seed: u64, salt: u64, id: &str) -> crate::metrics::rng::Rng {
    use crate::metrics::rng::{splitmix64, Rng};
    let mut h = splitmix64(seed ^ salt);
    for b in id.bytes() {
        h = splitmix64(h ^ b as u64);
    }
    Rng::new(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_round_trips_through_its_canonical_text() {
        let mut all = menu();
        all.extend(["shuffle:1", "none_of_the_above", "truncate", "nota"].map(String::from));
        for s in all {
            let p = Probe::parse(&s).unwrap();
            assert_eq!(Probe::parse(&p.to_string()).unwrap(), p, "{s}");
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Probe>(&json).unwrap(), p);
        }
        assert_eq!(Probe::parse("shuffle:1").unwrap().to_string(), "shuffle");
        assert_eq!(
            Probe::parse("nota:gold").unwrap().to_string(),
            "none_of_the_above",
            "the text runs of Bedside 0.1 hold"
        );
        for bad in [
            "shuffle:0",
            "shuffle:x",
            "bias:anchoring",
            "bias",
            "nota:both",
            "truncate:0",
            "truncate:100",
            "circular:2",
            "flip",
        ] {
            let e = Probe::parse(bad).unwrap_err();
            assert!(e.contains(bad) && e.contains("shuffle[:k]"), "{e}");
        }
    }

    #[test]
    fn chained_probes_compose_the_order_and_keep_the_source_id() {
        let it = Item::choice(
            "q1",
            "Which?",
            ["w", "x", "y", "z"].map(String::from).to_vec(),
            2,
        );
        let vs = apply_all(
            &[Probe::Bias(Some(Bias::Recency)), Probe::Circular],
            it.clone(),
            9,
        );
        assert_eq!(vs.len(), 4);
        for v in &vs {
            assert_eq!(v.source_id, "q1");
            assert!(v.item.id.starts_with("q1#r"));
            for (i, &o) in v.order.iter().enumerate() {
                assert_eq!(v.item.options[i], it.options[o]);
            }
            assert_eq!(v.item.options[v.item.answer.index().unwrap()], "y");
            let s = v.suggested.unwrap();
            assert!(v.injected.as_ref().unwrap().contains(&v.item.options[s]));
            assert_ne!(v.item.options[s], "y");
        }
    }
}

/// Probes as one text (`shuffle:3, bias:recency`), empty for none.
pub fn describe(probes: &[Probe]) -> String {
    probes
        .iter()
        .map(Probe::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
