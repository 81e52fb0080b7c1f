//! Bradley–Terry fit against choix 0.4.1 (`opt_pairwise`, Newton-CG; `ilsr_pairwise` for alpha = 0)
//! and NumPy. Fixture: tests/fixtures/bradley_terry_reference.json, produced by
//! scripts/reference_bradley_terry.py.
//!
//! Tolerances:
//! - strengths vs choix: 1e-6 absolute. choix's Newton-CG (tol = 1e-10, an L1 step bound) sometimes
//!   stops on a line-search precision loss with a gradient of ~1e-6; its distance to the exact optimum
//!   is recorded per case (at most ~6e-8 in the committed fixture, asserted < 1e-5 by the script).
//! - strengths vs the script's NumPy Newton solve (step < 1e-13): 1e-9 absolute.
//! - standard errors (NumPy `pinv` of the penalised information on the centred subspace): 1e-8
//!   relative. Log-likelihood: 1e-9 relative. Ranks, wins matrices, tie and comparison counts: exact.

use bedside_bench::metrics::bradley_terry::{fit, wins_from_correctness, BtOptions};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/bradley_terry_reference.json")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn matrix(v: &Value) -> Vec<Vec<u32>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect()
        })
        .collect()
}

#[test]
fn matches_choix_and_numpy() {
    let r = fixture();
    let cases = r["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let (mut dev_choix, mut dev_newton, mut dev_se) = (0.0f64, 0.0f64, 0.0f64);
    let mut from_correctness = 0;
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let wins = matrix(&c["wins"]);
        let ties = c["ties"].as_u64().unwrap() as u32;
        if let Some(corr) = c["correctness"].as_array() {
            let runs: Vec<Vec<bool>> = corr
                .iter()
                .map(|s| s.as_str().unwrap().bytes().map(|b| b == b'1').collect())
                .collect();
            let (w, t) = wins_from_correctness(&runs);
            assert_eq!(w, wins, "{name}: wins matrix");
            assert_eq!(t, ties, "{name}: ties");
            from_correctness += 1;
        }
        let alpha = c["alpha"].as_f64().unwrap();
        let opts = BtOptions {
            alpha,
            ..BtOptions::default()
        };
        let f = fit(&wins, ties, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(f.converged, "{name}: not converged");
        assert_eq!(f.ties, ties, "{name}");
        assert_eq!(
            f.comparisons as u64,
            c["comparisons"].as_u64().unwrap(),
            "{name}"
        );
        let choix = floats(&c["strength"]);
        let newton = floats(&c["strength_newton"]);
        let se = floats(&c["se"]);
        let rank: Vec<usize> = c["rank"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(f.strengths.len(), choix.len(), "{name}");
        for (i, s) in f.strengths.iter().enumerate() {
            assert_eq!(s.player, i);
            let dc = (s.strength - choix[i]).abs();
            let dn = (s.strength - newton[i]).abs();
            let ds = (s.se - se[i]).abs() / se[i];
            assert!(
                dc <= 1e-6,
                "{name} player {i}: strength {} vs choix {} (diff {dc:e})",
                s.strength,
                choix[i]
            );
            assert!(
                dn <= 1e-9,
                "{name} player {i}: strength {} vs NumPy Newton {} (diff {dn:e})",
                s.strength,
                newton[i]
            );
            assert!(
                ds <= 1e-8,
                "{name} player {i}: se {} vs {} (rel diff {ds:e})",
                s.se,
                se[i]
            );
            assert_eq!(s.rank, rank[i], "{name} player {i}: rank");
            assert!((s.high - s.low - 2.0 * 1.959_963_984_540_054 * s.se).abs() < 1e-12);
            dev_choix = dev_choix.max(dc);
            dev_newton = dev_newton.max(dn);
            dev_se = dev_se.max(ds);
        }
        let ll = c["log_likelihood"].as_f64().unwrap();
        assert!(
            (f.log_likelihood - ll).abs() <= 1e-9 * ll.abs().max(1.0),
            "{name}: log-likelihood {} vs {ll}",
            f.log_likelihood
        );
    }
    assert!(from_correctness >= 8);
    println!(
        "max |strength - choix| = {dev_choix:e}, max |strength - NumPy Newton| = {dev_newton:e}, \
         max relative se difference = {dev_se:e}"
    );
}
