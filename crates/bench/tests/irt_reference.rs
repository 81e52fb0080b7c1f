//! Bedside's IRT fit (EM) against an independent direct maximisation of the same penalised marginal
//! log-likelihood with SciPy (L-BFGS-B + Newton polish), and, more loosely, against the PyPI package
//! girth. Fixture: tests/fixtures/irt_reference.json, produced by scripts/reference_irt.py.
//!
//! Tolerances (same objective, same 61-point grid, so the two optima agree up to the optimisers'
//! convergence):
//! - with a tight EM tolerance (1e-9): item parameters and abilities 1e-5, ability SDs 1e-5,
//!   log-likelihood and log prior 1e-6, item standard errors 1e-4 relative (the reference's are from
//!   a finite-difference Hessian, step 1e-5);
//! - with the default options (tolerance 1e-4 on the change per EM cycle): item parameters 2e-3,
//!   abilities 1e-3, log-likelihood 1e-3;
//! - girth (its own quadrature: 61 Gauss–Legendre points on [-6, 6]; difficulty from integral
//!   equations; stops at a 1e-3 change; no priors, 500 runs × 30 questions): discrimination and
//!   difficulty within 0.02 + 2% and correlations > 0.999.

use bedside_bench::metrics::irt::{fit, IrtFit, IrtModel, IrtOptions, IrtWarning};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/irt_reference.json")).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, reference {want} (tolerance {tol})"
    );
}

fn matrix(case: &Value) -> Vec<Vec<Option<bool>>> {
    case["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().map(|v| v != 0))
                .collect()
        })
        .collect()
}

fn options(case: &Value, tolerance: f64) -> IrtOptions {
    let model = match case["model"].as_str() {
        None => None,
        Some("2pl") => Some(IrtModel::TwoPl),
        Some("rasch") => Some(IrtModel::Rasch),
        Some(other) => panic!("unknown model {other}"),
    };
    IrtOptions {
        model,
        priors: case["priors"].as_bool().unwrap(),
        max_iterations: 100_000,
        tolerance,
        ..IrtOptions::default()
    }
}

/// Largest absolute differences (parameters, abilities) between the fit and the reference, after
/// checking model, left-out columns and the warnings.
fn compare(
    case: &Value,
    fit: &IrtFit,
    par_tol: f64,
    ability_tol: f64,
    ll_tol: f64,
    se_rel: f64,
) -> (f64, f64) {
    let name = case["name"].as_str().unwrap();
    let exp = &case["expected"];
    let want_model = match exp["model"].as_str().unwrap() {
        "2pl" => IrtModel::TwoPl,
        _ => IrtModel::Rasch,
    };
    assert_eq!(fit.model, want_model, "{name}: model");
    let left: Vec<usize> = exp["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(fit.left_out, left, "{name}: left out");
    if !left.is_empty() {
        let c = &exp["left_out_counts"];
        let w = IrtWarning::ItemsLeftOut {
            all_right: c["all_right"].as_u64().unwrap() as usize,
            all_wrong: c["all_wrong"].as_u64().unwrap() as usize,
            too_few_answers: c["too_few_answers"].as_u64().unwrap() as usize,
        };
        assert!(fit.warnings.contains(&w), "{name}: {:?}", fit.warnings);
    }
    if case["model"].is_null() && want_model == IrtModel::Rasch {
        assert!(
            fit.warnings
                .iter()
                .any(|w| matches!(w, IrtWarning::TooFewFor2pl { .. })),
            "{name}: fallback warning"
        );
    }
    let items = exp["items"].as_array().unwrap();
    assert_eq!(fit.items.len(), items.len(), "{name}: items used");
    let (mut worst_par, mut worst_ab) = (0.0f64, 0.0f64);
    for (got, want) in fit.items.iter().zip(items) {
        assert_eq!(got.item as u64, want["item"].as_u64().unwrap());
        let what = format!("{name} item {}", got.item);
        close(
            got.discrimination,
            f(&want["a"]),
            par_tol,
            &format!("{what} a"),
        );
        close(got.difficulty, f(&want["b"]), par_tol, &format!("{what} b"));
        worst_par = worst_par
            .max((got.discrimination - f(&want["a"])).abs())
            .max((got.difficulty - f(&want["b"])).abs());
        let (a_se, b_se) = (f(&want["a_se"]), f(&want["b_se"]));
        close(
            got.discrimination_se,
            a_se,
            se_rel * a_se.max(1e-12),
            &format!("{what} a SE"),
        );
        close(
            got.difficulty_se,
            b_se,
            se_rel * b_se,
            &format!("{what} b SE"),
        );
        // The flag is a function of the reference's own numbers.
        let flag = f(&want["a"]) < 0.0 && f(&want["a"]) + 1.959_963_984_540_054 * a_se < 0.0;
        assert_eq!(got.negative_discrimination, flag, "{what} flag");
    }
    let abilities = exp["abilities"].as_array().unwrap();
    assert_eq!(fit.abilities.len(), abilities.len());
    for (i, (got, want)) in fit.abilities.iter().zip(abilities).enumerate() {
        close(
            got.theta,
            f(&want["theta"]),
            ability_tol,
            &format!("{name} theta {i}"),
        );
        close(
            got.se,
            f(&want["se"]),
            ability_tol,
            &format!("{name} theta SE {i}"),
        );
        worst_ab = worst_ab.max((got.theta - f(&want["theta"])).abs());
    }
    close(
        fit.log_likelihood,
        f(&exp["log_likelihood"]),
        ll_tol,
        &format!("{name} log-likelihood"),
    );
    close(
        fit.log_prior,
        f(&exp["log_prior"]),
        ll_tol.max(par_tol * 10.0),
        &format!("{name} log prior"),
    );
    (worst_par, worst_ab)
}

#[test]
fn same_objective_as_scipy_tight() {
    let r = fixture();
    for case in r["cases"].as_array().unwrap() {
        let fit = fit(&matrix(case), &options(case, 1e-9)).unwrap();
        assert!(fit.converged, "{}", case["name"]);
        let (p, a) = compare(case, &fit, 1e-5, 1e-5, 1e-6, 1e-4);
        eprintln!(
            "{}: {} EM cycles, max |Δ parameter| {p:.1e}, max |Δ θ| {a:.1e}, Δ log-likelihood {:.1e}",
            case["name"].as_str().unwrap(),
            fit.iterations,
            fit.log_likelihood - f(&case["expected"]["log_likelihood"])
        );
    }
}

#[test]
fn same_objective_as_scipy_default_options() {
    let r = fixture();
    for case in r["cases"].as_array().unwrap() {
        let mut opts = options(case, 1e-4);
        opts.max_iterations = IrtOptions::default().max_iterations;
        let fit = fit(&matrix(case), &opts).unwrap();
        assert!(fit.converged, "{}", case["name"]);
        let (p, a) = compare(case, &fit, 2e-3, 1e-3, 1e-3, 1e-2);
        eprintln!(
            "{} (default options): {} EM cycles, max |Δ parameter| {p:.1e}, max |Δ θ| {a:.1e}",
            case["name"].as_str().unwrap(),
            fit.iterations
        );
    }
}

fn corr(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

#[test]
fn close_to_girth() {
    let r = fixture();
    let mut checked = 0;
    for case in r["cases"].as_array().unwrap() {
        let Some(g) = case.get("girth") else { continue };
        checked += 1;
        let fit = fit(&matrix(case), &options(case, 1e-6)).unwrap();
        let ga: Vec<f64> = g["discrimination"]
            .as_array()
            .unwrap()
            .iter()
            .map(f)
            .collect();
        let gb: Vec<f64> = g["difficulty"].as_array().unwrap().iter().map(f).collect();
        let ea: Vec<f64> = fit.items.iter().map(|x| x.discrimination).collect();
        let eb: Vec<f64> = fit.items.iter().map(|x| x.difficulty).collect();
        assert_eq!(ga.len(), ea.len());
        let (mut da, mut db) = (0.0f64, 0.0f64);
        for k in 0..ea.len() {
            close(
                ea[k],
                ga[k],
                0.02 + 0.02 * ga[k].abs(),
                &format!("girth a {k}"),
            );
            close(
                eb[k],
                gb[k],
                0.02 + 0.02 * gb[k].abs(),
                &format!("girth b {k}"),
            );
            da = da.max((ea[k] - ga[k]).abs());
            db = db.max((eb[k] - gb[k]).abs());
        }
        let (ca, cb) = (corr(&ea, &ga), corr(&eb, &gb));
        eprintln!("girth: max |Δa| {da:.4}, max |Δb| {db:.4}, corr a {ca:.5}, corr b {cb:.5}");
        assert!(ca > 0.999 && cb > 0.999, "corr a {ca}, b {cb}");
    }
    assert_eq!(checked, 1);
}
