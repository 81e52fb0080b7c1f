//! Probes: item transformations that show *why* a multiple-choice score can mislead. Each takes an item
//! and returns the item the model is actually asked, with the gold answer remapped. One probe per file.

pub mod choices_only;
pub mod none_of_the_above;
pub mod shuffle;

use crate::item::Item;

/// The probes Bedside knows, by command-line name.
pub const PROBES: [&str; 3] = ["shuffle", "choices_only", "none_of_the_above"];

/// Apply the named probe to `item`. `seed` makes randomised probes reproducible (mixed with the item id).
/// Returns `None` when the probe does not apply to the item (e.g. a numeric item has no options).
pub fn apply(name: &str, item: &Item, seed: u64) -> Result<Option<Item>, String> {
    match name {
        "shuffle" => Ok(shuffle::shuffle(item, seed)),
        "choices_only" => Ok(choices_only::choices_only(item)),
        "none_of_the_above" => Ok(none_of_the_above::none_of_the_above(item)),
        _ => Err(format!(
            "unknown probe `{name}`; expected one of: {}",
            PROBES.join(", ")
        )),
    }
}
