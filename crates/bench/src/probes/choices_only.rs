//! Choices-only baseline: the options without the question (and without any context). A model that beats
//! chance here is exploiting artefacts of the options themselves ("Artifacts or Abduction: How Do LLMs
//! Answer Multiple-Choice Questions Without the Question?", Balepur et al., 2024).

use crate::item::Item;

/// The item with its question (and context) removed. `None` for items without options.
pub fn choices_only(item: &Item) -> Option<Item> {
    item.answer.index()?;
    let mut out = item.clone();
    out.question = String::new();
    out.context = None;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_question_and_context_keeps_options_and_gold() {
        let mut it = Item::choice("1", "Which drug?", vec!["a".into(), "b".into()], 1);
        it.context = Some("abstract".into());
        let c = choices_only(&it).unwrap();
        assert_eq!((c.question.as_str(), c.context.as_deref()), ("", None));
        assert_eq!(
            (c.options.clone(), c.answer.index()),
            (it.options.clone(), Some(1))
        );
    }
}
