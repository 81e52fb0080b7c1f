//! Each template against a literal expected string (real items from the bundled samples), and every
//! context lm-eval-harness built for the reference items (0-shot for all four tasks, 5-shot for MMLU)
//! against Bedside's, byte for byte. The reference comes from scripts/reference_lm_eval.py.

mod common;
use bedside_eval::fewshot::FewshotSampler;
use bedside_eval::prompt::{build, plain_context};
use bedside_eval::{plan, Method, Template};
use common::*;
use serde_json::Value;

fn item(bench: &str, id: &str) -> bedside_bench::Item {
    test_items(&sample(bench))
        .into_iter()
        .find(|i| i.id == id)
        .unwrap()
}

#[test]
fn medqa_template_literal() {
    let it = item("medqa-4options", "phrases_no_exclude_test-51");
    let p = build(Template::Medqa, &it, &[], None, false).unwrap();
    assert_eq!(
        p.context,
        "Question: A 65-year-old male is treated for anal carcinoma with therapy including external beam radiation. How does radiation affect cancer cells?\n\
         A. Induces the formation of thymidine dimers\n\
         B. Induces the formation of disulfide bonds\n\
         C. Induces deamination of cytosine\n\
         D. Induces breaks in double-stranded DNA\n\
         Answer:"
    );
    assert_eq!(p.continuations, [" A", " B", " C", " D"]);
}

#[test]
fn medmcqa_template_literal() {
    let it = item("medmcqa", "validation-354");
    let p = build(Template::Medmcqa, &it, &[], None, false).unwrap();
    assert_eq!(p.context, "Question: Antibody in chronic allergy ?\nChoices:\nA. IgM\nB. IgA\nC. IgG\nD. IgE\nAnswer:");
    assert_eq!(p.continuations, [" A", " B", " C", " D"]);
}

#[test]
fn pubmedqa_template_literal() {
    let it = item("pubmedqa", "25277731");
    let p = build(Template::Pubmedqa, &it, &[], None, false).unwrap();
    let ctx = it.context.clone().unwrap();
    assert!(
        ctx.contains('\n'),
        "the abstract's sections are joined with newlines, as lm-eval joins CONTEXTS"
    );
    assert_eq!(p.context, format!("Abstract: {ctx}\nQuestion: Sternal fracture in growing children : A rare and often overlooked fracture?\nAnswer:"));
    assert_eq!(p.continuations, [" yes", " no", " maybe"]);
    assert_eq!(p.choices, ["yes", "no", "maybe"]);
}

#[test]
fn mmlu_template_literal_with_description() {
    let it = item("mmlu-medical", "medical_genetics-test-49");
    let p = build(Template::Mmlu, &it, &[], None, false).unwrap();
    assert_eq!(
        p.context,
        "The following are multiple choice questions (with answers) about medical genetics.\n\n\
         The proportion of genes shared by first cousins is on average ___.\nA. 1.0/2\nB. 1.0/4\nC. 1.0/8\nD. 1.0/16\nAnswer:"
    );
}

#[test]
fn chat_rendering_drops_the_target_delimiter() {
    let it = item("medmcqa", "validation-354");
    let render = |u: &str| {
        Ok::<_, String>(format!(
            "<|im_start|>user\n{u}<|im_end|>\n<|im_start|>assistant\n"
        ))
    };
    let p = build(Template::Medmcqa, &it, &[], Some(&render), false).unwrap();
    assert!(p
        .context
        .starts_with("<|im_start|>user\nQuestion: Antibody in chronic allergy ?\n"));
    assert_eq!(p.continuations, ["A", "B", "C", "D"]);
}

#[test]
fn auto_picks_the_dataset_template() {
    for (b, t) in [
        ("medqa-4options", Template::Medqa),
        ("medmcqa", Template::Medmcqa),
        ("pubmedqa", Template::Pubmedqa),
        ("mmlu-medical", Template::Mmlu),
        ("mmlu-pro-health", Template::Mmlu),
    ] {
        let m = sample(b).manifest;
        assert_eq!(Template::auto(m.task, &m.name, &m.source), t, "{b}");
    }
}

fn reference() -> Value {
    serde_json::from_str(include_str!("fixtures/lm_eval_reference.json")).unwrap()
}

#[test]
fn zero_shot_contexts_equal_lm_eval_byte_for_byte() {
    let r = reference();
    let mut checked = 0;
    for run in r["runs"].as_array().unwrap() {
        let bench = sample(run["benchmark"].as_str().unwrap());
        let items = test_items(&bench);
        let t = Template::auto(
            bench.manifest.task,
            &bench.manifest.name,
            &bench.manifest.source,
        );
        for want in run["items"].as_array().unwrap() {
            let it = items
                .iter()
                .find(|i| i.id == want["id"].as_str().unwrap())
                .unwrap();
            let p = build(t, it, &[], None, false).unwrap();
            assert_eq!(
                p.context,
                want["context"].as_str().unwrap(),
                "{} {}",
                run["benchmark"],
                it.id
            );
            let conts: Vec<&str> = want["continuations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            assert_eq!(p.continuations, conts);
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} reference contexts");
}

#[test]
fn mmlu_five_shot_contexts_equal_lm_eval_first_n() {
    let bench = sample("mmlu-medical");
    let mut cfg = config(&bench, Method::Loglik, 5);
    cfg.fewshot = FewshotSampler::FirstN;
    let p = plan(&bench, &cfg, None, None).unwrap();
    let r = reference();
    let wants = r["mmlu_5shot_contexts"].as_array().unwrap();
    assert!(!wants.is_empty());
    for want in wants {
        let pi = p
            .items
            .iter()
            .find(|x| x.item.id == want["id"].as_str().unwrap())
            .unwrap();
        let shots: Vec<&bedside_bench::Item> = pi.shots.iter().map(|&i| &p.pool[i]).collect();
        assert_eq!(shots.len(), 5);
        assert_eq!(
            plain_context(Template::Mmlu, &pi.item, &shots),
            want["context"].as_str().unwrap(),
            "{}",
            pi.item.id
        );
    }
}

#[test]
fn few_shot_never_uses_the_item_and_is_seeded() {
    let bench = sample("medqa-4options");
    let mut cfg = config(&bench, Method::Loglik, 3);
    cfg.fewshot = FewshotSampler::Random;
    let a = plan(&bench, &cfg, None, Some(20)).unwrap();
    let b = plan(&bench, &cfg, None, Some(20)).unwrap();
    assert_eq!(a.pool_split.as_deref(), Some("dev"));
    for (x, y) in a.items.iter().zip(&b.items) {
        assert_eq!(x.shots, y.shots);
        assert_eq!(x.shots.len(), 3);
        assert!(x.shots.iter().all(|&i| a.pool[i].id != x.item.id));
    }
    // Different items get different examples (a fixed set for all would be `first`).
    assert!(a.items.windows(2).any(|w| w[0].shots != w[1].shots));
    cfg.seed = 99;
    let c = plan(&bench, &cfg, None, Some(20)).unwrap();
    assert!(a
        .items
        .iter()
        .zip(&c.items)
        .any(|(x, y)| x.shots != y.shots));
    // Nearest neighbours: the most lexically similar dev questions.
    cfg.fewshot = FewshotSampler::Nearest;
    let n = plan(&bench, &cfg, None, Some(5)).unwrap();
    assert!(n.items.iter().all(|x| x.shots.len() == 3));
}

#[test]
fn shots_without_a_dev_split_is_a_clear_error() {
    let bench = sample("medmcqa");
    let e = plan(&bench, &config(&bench, Method::Loglik, 3), None, None).unwrap_err();
    assert!(e.contains("--shots 3") && e.contains("dev"), "{e}");
    let e = plan(
        &bench,
        &{
            let mut c = config(&bench, Method::Loglik, 0);
            c.benchmark.split = "train".into();
            c
        },
        None,
        None,
    )
    .unwrap_err();
    assert!(e.contains("no `train` items") && e.contains("test"), "{e}");
}

#[test]
fn slices_partition_the_items_and_limit_takes_the_first() {
    let bench = sample("mmlu-medical");
    let cfg = config(&bench, Method::Loglik, 0);
    let all = plan(&bench, &cfg, None, None).unwrap();
    let mut seen: Vec<usize> = Vec::new();
    for i in 0..3 {
        let s = plan(
            &bench,
            &cfg,
            Some(bedside_eval::Slice { index: i, count: 3 }),
            None,
        )
        .unwrap();
        assert!(s.items.iter().all(|p| p.index % 3 == i));
        seen.extend(s.items.iter().map(|p| p.index));
    }
    seen.sort();
    assert_eq!(seen, all.items.iter().map(|p| p.index).collect::<Vec<_>>());
    let l = plan(&bench, &cfg, None, Some(7)).unwrap();
    assert_eq!(l.items.len(), 7);
    assert_eq!(l.planned, all.items.len());
    assert_eq!(
        l.items.iter().map(|p| &p.item.id).collect::<Vec<_>>(),
        all.items[..7]
            .iter()
            .map(|p| &p.item.id)
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_template_that_does_not_fit_is_refused_before_any_work() {
    let pro = sample("mmlu-pro-health");
    let e = Template::resolve("medqa", &pro).unwrap_err();
    assert!(
        e.contains("test-000.jsonl:") && e.contains("options") && e.contains("--format generic"),
        "{e}"
    );
    assert_eq!(Template::resolve("auto", &pro).unwrap(), Template::Mmlu);
    assert_eq!(
        Template::resolve("auto", &sample("medqa-4options")).unwrap(),
        Template::Medqa
    );
    assert!(Template::resolve("nonsense", &pro)
        .unwrap_err()
        .contains("unknown format"));
}
