//! Answer-position prior. A model may prefer a letter whatever the options say ("Large Language Models
//! Are Not Robust Multiple Choice Selectors", Zheng et al., ICLR 2024). The `position` probe shows each
//! item under every rotation of its options (so each option visits each letter) and once with its
//! options replaced by a placeholder (a content-free item: any preference there is for the letter). The
//! report estimates the prior from the rotations as PriDe does and removes it (see
//! `bedside_eval::paired`).

use crate::item::Item;

/// The tag of the content-free variant (`<id>#cf`).
pub const CONTENT_FREE_TAG: &str = "cf";
/// What every option of a content-free item says ("Calibrate Before Use", Zhao et al., ICML 2021, uses
/// "N/A" as its content-free input).
pub const PLACEHOLDER: &str = "N/A";

/// The item with every option replaced by the placeholder (the gold index is kept, and meaningless).
pub fn content_free(item: &Item) -> Item {
    let mut out = item.clone();
    out.options = vec![PLACEHOLDER.to_string(); item.options.len()];
    out
}

#[cfg(test)]
mod tests {
    use super::super::{Probe, Variant};
    use super::*;

    #[test]
    fn rotations_then_one_content_free_item() {
        let it = Item::choice("q", "Which?", ["a", "b", "c"].map(String::from).to_vec(), 0);
        let vs = Probe::Position.apply(&Variant::plain(it), 0);
        let ids: Vec<&str> = vs.iter().map(|v| v.item.id.as_str()).collect();
        assert_eq!(ids, ["q#r0", "q#r1", "q#r2", "q#cf"]);
        assert!(vs[3].item.options.iter().all(|o| o == PLACEHOLDER));
        assert_eq!(vs[3].item.question, "Which?");
    }
}
