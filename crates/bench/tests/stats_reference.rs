//! Bedside's statistics against reference numbers from SciPy / statsmodels / NumPy.
//! Fixture: tests/fixtures/stats_reference.json, produced by scripts/reference_stats.py.
//!
//! Tolerances: deterministic quantities 1e-9 (1e-8 for the normal quantile, whose approximation has
//! relative error < 1.2e-9); bootstrap intervals 0.01 (two independent Monte Carlo runs of 10,000
//! resamples each: Monte Carlo error of a 2.5% quantile is ~0.002 at these n).

use bedside_bench::metrics::{
    bootstrap::bootstrap_accuracy_interval, brier::brier_score, calibration,
    chance::chance_baseline, mcnemar::mcnemar_exact, paired_bootstrap::paired_bootstrap_difference,
    reliability::reliability_bins, special, subjects::by_subject, wilson::wilson_interval,
};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/stats_reference.json")).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol,
        "{what}: got {a}, reference {b} (tolerance {tol})"
    );
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_bool().unwrap_or_else(|| x.as_i64().unwrap() != 0))
        .collect()
}

#[test]
fn special_functions() {
    let r = fixture();
    for c in r["normal_quantile"].as_array().unwrap() {
        let q = f(&c["q"]);
        close(
            special::normal_quantile(f(&c["p"])),
            q,
            1e-8 * q.abs().max(1.0),
            "normal quantile",
        );
    }
    for c in r["ln_gamma"].as_array().unwrap() {
        let y = f(&c["y"]);
        close(
            special::ln_gamma(f(&c["x"])),
            y,
            1e-10 * y.abs().max(1.0),
            "ln_gamma",
        );
    }
    for c in r["binom_cdf"].as_array().unwrap() {
        let got = special::binom_cdf(
            c["k"].as_u64().unwrap(),
            c["n"].as_u64().unwrap(),
            f(&c["p"]),
        );
        close(got, f(&c["cdf"]), 1e-9, "binom_cdf");
    }
    for c in r["chi2_sf"].as_array().unwrap() {
        let want = f(&c["sf"]);
        close(
            special::chi2_sf(f(&c["x"]), f(&c["df"])),
            want,
            1e-9 * want.max(1e-300).max(1e-3),
            "chi2_sf",
        );
    }
}

#[test]
fn wilson_matches_statsmodels() {
    for c in fixture()["wilson"].as_array().unwrap() {
        let i = wilson_interval(
            c["k"].as_u64().unwrap(),
            c["n"].as_u64().unwrap(),
            f(&c["level"]),
        );
        close(i.low, f(&c["low"]), 1e-9, "wilson low");
        close(i.high, f(&c["high"]), 1e-9, "wilson high");
    }
}

#[test]
fn bootstrap_matches_scipy_within_monte_carlo_error() {
    for c in fixture()["bootstrap"].as_array().unwrap() {
        let x = bools(&c["correct"]);
        let i = bootstrap_accuracy_interval(&x, f(&c["level"]), 10_000, 42).unwrap();
        close(i.low, f(&c["low"]), 0.01, "bootstrap low");
        close(i.high, f(&c["high"]), 0.01, "bootstrap high");
        // Same seed, same interval; another seed, (almost surely) a slightly different one.
        assert_eq!(
            Some(i),
            bootstrap_accuracy_interval(&x, f(&c["level"]), 10_000, 42)
        );
    }
}

#[test]
fn chance_baseline_matches_scipy() {
    for c in fixture()["chance"].as_array().unwrap() {
        let counts: Vec<usize> = c["option_counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        let obs = c["observed"].as_u64().unwrap() as usize;
        let b = chance_baseline(&counts, obs, f(&c["level"])).unwrap();
        close(
            b.expected_accuracy,
            f(&c["expected"]),
            1e-12,
            "chance expected",
        );
        close(b.interval.low, f(&c["low"]), 1e-12, "chance low");
        close(b.interval.high, f(&c["high"]), 1e-12, "chance high");
        close(b.p_value, f(&c["p_value"]), 1e-9, "chance p-value");
        assert_eq!(b.beats_chance, f(&c["p_value"]) < 0.05);
    }
}

#[test]
fn calibration_brier_reliability_match_numpy() {
    for c in fixture()["calibration"].as_array().unwrap() {
        let probs: Vec<Vec<f64>> = c["probs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().iter().map(f).collect())
            .collect();
        let gold: Vec<usize> = c["gold"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_u64().unwrap() as usize)
            .collect();
        let pairs = calibration::confidence_pairs(&probs, &gold);
        close(
            calibration::ece(&pairs, 15).unwrap(),
            f(&c["ece_15"]),
            1e-12,
            "ece 15",
        );
        close(
            calibration::ece(&pairs, 10).unwrap(),
            f(&c["ece_10"]),
            1e-12,
            "ece 10",
        );
        close(
            calibration::adaptive_ece(&pairs, 15).unwrap(),
            f(&c["adaptive_ece_15"]),
            1e-12,
            "adaptive ece 15",
        );
        close(
            calibration::adaptive_ece(&pairs, 5).unwrap(),
            f(&c["adaptive_ece_5"]),
            1e-12,
            "adaptive ece 5",
        );
        close(
            brier_score(&probs, &gold).unwrap(),
            f(&c["brier"]),
            1e-12,
            "brier",
        );
        let bins = reliability_bins(&pairs, 15, 0.95);
        for (b, want) in bins.iter().zip(c["reliability_15"].as_array().unwrap()) {
            assert_eq!(b.count as u64, want["count"].as_u64().unwrap());
            match (b.mean_confidence, want["mean_confidence"].as_f64()) {
                (Some(x), Some(y)) => close(x, y, 1e-12, "bin confidence"),
                (None, None) => {}
                other => panic!("bin emptiness differs: {other:?}"),
            }
            if let (Some(x), Some(y)) = (b.accuracy, want["accuracy"].as_f64()) {
                close(x, y, 1e-12, "bin accuracy");
            }
        }
    }
}

#[test]
fn per_subject_matches_pandas() {
    let r = fixture();
    let s = &r["subjects"];
    let subjects: Vec<Option<&str>> = s["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(Value::as_str)
        .collect();
    let correct = bools(&s["correct"]);
    let got = by_subject(subjects.into_iter().zip(correct), 0.95);
    let want = s["expected"].as_array().unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.subject, w["subject"].as_str().unwrap());
        assert_eq!(g.items as u64, w["items"].as_u64().unwrap());
        assert_eq!(g.correct as u64, w["correct"].as_u64().unwrap());
        close(g.accuracy, f(&w["accuracy"]), 1e-12, "subject accuracy");
        close(g.interval.low, f(&w["low"]), 1e-9, "subject low");
        close(g.interval.high, f(&w["high"]), 1e-9, "subject high");
    }
}

#[test]
fn mcnemar_matches_statsmodels() {
    for c in fixture()["mcnemar"].as_array().unwrap() {
        let m = mcnemar_exact(&bools(&c["a"]), &bools(&c["b"])).unwrap();
        assert_eq!(m.a_only as u64, c["a_only"].as_u64().unwrap());
        assert_eq!(m.b_only as u64, c["b_only"].as_u64().unwrap());
        close(m.p_value, f(&c["p_value"]), 1e-9, "mcnemar p");
    }
}

#[test]
fn paired_bootstrap_matches_scipy_within_monte_carlo_error() {
    for c in fixture()["paired_bootstrap"].as_array().unwrap() {
        let i = paired_bootstrap_difference(
            &bools(&c["a"]),
            &bools(&c["b"]),
            f(&c["level"]),
            10_000,
            7,
        )
        .unwrap();
        close(i.low, f(&c["low"]), 0.01, "paired low");
        close(i.high, f(&c["high"]), 0.01, "paired high");
    }
}
