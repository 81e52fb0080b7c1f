//! The statistics of `bedside compare` against statsmodels / SciPy.
//! Fixture: tests/fixtures/compare_stats_reference.json, produced by scripts/reference_compare_stats.py.
//! Tolerances: 1e-9 (all deterministic); items needed: equal after rounding up.

use bedside_bench::metrics::{
    auc::auc, fisher::fisher_greater, holm::holm_adjust, kappa::agreement, mcnemar::mcnemar_exact,
    power::paired_items_needed,
};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/compare_stats_reference.json")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap() != 0)
        .collect()
}

#[test]
fn holm_matches_statsmodels() {
    let r = fixture();
    let cases = r["holm"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for c in cases {
        let got = holm_adjust(&floats(&c["p"]));
        let want = floats(&c["adjusted"]);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() < 1e-9,
                "holm {:?}: got {got:?}, statsmodels {want:?}",
                c["p"]
            );
        }
    }
}

#[test]
fn kappa_power_and_mcnemar_match_the_references() {
    let r = fixture();
    for c in r["pairs"].as_array().unwrap() {
        let (a, b) = (bools(&c["a"]), bools(&c["b"]));
        let g = agreement(&a, &b).unwrap();
        let k = c["kappa"].as_f64().unwrap();
        assert!(
            (g.kappa.unwrap() - k).abs() < 1e-9,
            "kappa {} vs {k}",
            g.kappa.unwrap()
        );
        assert!((g.observed - c["observed"].as_f64().unwrap()).abs() < 1e-12);
        let m = mcnemar_exact(&a, &b).unwrap();
        assert!((m.p_value - c["mcnemar_p"].as_f64().unwrap()).abs() < 1e-9);
        let n = a.len() as f64;
        let need = paired_items_needed(m.a_only as f64 / n, m.b_only as f64 / n, 0.05, 0.8);
        assert_eq!(
            need,
            c["items_needed_80"].as_f64(),
            "items needed for {} items",
            a.len()
        );
    }
}

#[test]
fn fisher_one_sided_matches_scipy() {
    let r = fixture();
    let cases = r["fisher"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let t: Vec<u64> = c["table"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        let want = c["p_greater"].as_f64().unwrap();
        let got = fisher_greater(t[0], t[1], t[2], t[3]);
        assert!(
            (got - want).abs() < 1e-9 * want.max(1e-3),
            "fisher {t:?}: got {got}, scipy {want}"
        );
    }
}

#[test]
fn auc_matches_scipy_mann_whitney() {
    let r = fixture();
    for c in r["auc"].as_array().unwrap() {
        let got = auc(&floats(&c["positive"]), &floats(&c["negative"])).unwrap();
        let want = c["auc"].as_f64().unwrap();
        assert!((got - want).abs() < 1e-12, "auc: got {got}, scipy {want}");
    }
}
